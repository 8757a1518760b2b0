import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { Logger } from '../src/log.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { Readiness } from '../src/runtime/readiness.js';
import { loadOptionalTurn } from '../src/runtime/runtime.js';
import { MODELS_DIR } from './helpers.js';

function capture() {
  const warnings: string[] = [];
  const logger = {
    ...silentLogger,
    warn: (_: unknown, msg: string) => void warnings.push(msg),
  } as unknown as Logger;
  return { logger, warnings };
}

describe('the end-of-turn model at start-up', () => {
  it('loads and warms Smart Turn from the shared models', async () => {
    const readiness = new Readiness();
    const config = loadConfig({ env: { MODELS_DIR } });
    const { turn, turnUnavailable } = await loadOptionalTurn(
      config,
      new ModelManager({ modelsDir: MODELS_DIR }),
      silentLogger,
      readiness,
    );
    expect(turnUnavailable).toBeUndefined();
    expect(readiness.engines.turn).toMatchObject({
      state: 'ready',
      engine: 'smart-turn',
      model: 'smart-turn-v3.2-cpu',
    });
    await turn!.close();
  });

  it.each([
    ['missing', () => mkdtempSync(join(tmpdir(), 'voice-no-turn-')), 'smart-turn-v3.2-cpu'],
    ['not a Smart Turn model', () => MODELS_DIR, 'silero_vad'],
  ])('%s: the service goes on with server_vad, one warning, and /ready says why', async (_, dir, model) => {
    const readiness = new Readiness();
    const config = loadConfig({ env: { MODELS_DIR: dir() }, overrides: { turns: { model } } });
    const { logger, warnings } = capture();
    const { turn, turnUnavailable } = await loadOptionalTurn(
      config,
      new ModelManager({ modelsDir: config.models.dir }),
      logger,
      readiness,
    );
    expect(turn).toBeUndefined();
    expect(turnUnavailable).toBeTruthy();
    expect(readiness.engines.turn.state).toBe('failed');
    expect(readiness.engines.turn.fallback).toMatch(/server_vad/);
    expect(readiness.engines.turn.lastError?.message).toBe(turnUnavailable);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/end-of-turn model unavailable.*server_vad/);
    // Required engines decide readiness; this optional one does not block it.
    expect(readiness.ready).toBe(false);
    for (const s of ['vad', 'stt', 'llm', 'tts'] as const) readiness.warmed(s, 0);
    expect(readiness.ready).toBe(true);
  });
});
