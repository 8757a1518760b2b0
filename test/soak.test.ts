import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime, type Runtime } from '../src/runtime/runtime.js';
import type { buildServer } from '../src/server.js';
import { soak } from '../src/testing/soak.js';
import { frenchCommands } from '../src/testing/testaudio.js';
import { MODELS_DIR, requireSharedAssets, listenForTest } from './helpers.js';

/**
 * The 60 s soak of CI (bench:soak runs it for 10 minutes and measures memory): 8 voice sessions on
 * the real engines talk at once, half of their turns cut by the next at a random moment. No
 * session may wedge or answer without audio, and every response ends with response.done. On 2
 * cores 8 sessions are past capacity (answers take seconds): a stage may time out, with its code.
 */
let runtime: Runtime;
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;

beforeAll(async () => {
  requireSharedAssets();
  const config = loadConfig({
    env: { MODELS_DIR },
    overrides: { llm: { engine: 'llamacpp' }, auth: { maxSessionsPerToken: 8 } },
  });
  runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
  const server = await listenForTest(config, runtime);
  app = server.app;
  url = `${server.base.replace('http', 'ws')}/v1/realtime`;
});
afterAll(async () => {
  await app?.close();
  await runtime?.close();
});

describe('soak (real engines)', () => {
  it('8 sessions for 60 s with random barge-ins: none wedged or silent, every response ends', async () => {
    // SOAK_SEED replays the clips and barge-ins of a run (its seed is printed below).
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
    const r = await soak({
      url,
      sessions: 8,
      durationMs: 60_000,
      clips: frenchCommands().map((c) => c.path),
      bargeInRate: 0.5,
      seed,
      turnTimeoutMs: 60_000,
      rss: () => process.memoryUsage().rss,
      log: (s) => console.log(s),
    });
    console.log(`soak seed ${seed}: ${JSON.stringify({ ...r, answerAudioMs: undefined, rss: undefined })}`);
    expect(r.wedged).toBe(0);
    expect(r.silent).toBe(0);
    const { created, completed, cancelled, failed } = r.responses;
    expect(completed + cancelled + failed).toBe(created);
    expect(completed).toBeGreaterThan(0);
    expect(r.turns).toBeGreaterThanOrEqual(8);
    expect(Object.keys(r.errors).filter((code) => code !== 'timeout')).toEqual([]);
  }, 200_000);
});
