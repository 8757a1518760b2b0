import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { Readiness } from '../src/runtime/readiness.js';
import { loadRuntime } from '../src/runtime/runtime.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';

/** The engines load side by side: a failure on one side must still wait for, and close, the other. */
const dir = mkdtempSync(join(tmpdir(), 'voice-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadRuntime', () => {
  it('failingEngineWhileTheLlmLoads: waits for the LLM to settle, closes it, and names the failed engine', async () => {
    requireSharedAssets();
    // Every model but Whisper's: the STT fails within milliseconds, the LLM takes a second to load.
    for (const file of ['silero_vad.onnx', 'smart-turn-v3.2-cpu.onnx', 'SmolLM2-135M-Instruct.Q4_1.gguf'])
      symlinkSync(resolve(MODELS_DIR, file), join(dir, file));
    const config = loadConfig({
      env: { MODELS_DIR: dir },
      overrides: { llm: { engine: 'llamacpp' }, models: { autoFetch: false } },
    });
    const readiness = new Readiness();
    const failure = await loadRuntime(
      config,
      new ModelManager({ modelsDir: dir }),
      silentLogger,
      readiness,
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failure?.message).toMatch(/ggml-base-q5_1/);
    expect(readiness.engines.stt.state).toBe('failed');
    // Settled, not abandoned mid-load: it was loaded (then closed) before loadRuntime rejected.
    expect(readiness.engines.llm.state).not.toBe('loading');
    expect(readiness.engines.llm.loadMs).toBeGreaterThan(0);
    expect(readiness.ready).toBe(false);
  });
});
