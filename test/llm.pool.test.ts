import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { loadLlm } from '../src/engines/factory.js';
import { LlmPool } from '../src/engines/llm/pool.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';
import { startOllama, type OllamaServer } from './ollama-server.js';

/**
 * `llm.pool` on two real Ollama servers (built from source, started by the test), behind the
 * service's own routes: answers spread over both; with one stopped mid-test, every turn is still
 * answered, by the other, and /metrics says which server did what.
 */
let servers: OllamaServer[] = [];
beforeAll(async () => {
  requireSharedAssets();
  servers = await Promise.all([startOllama(), startOllama()]);
}, 120_000);
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const ask = (base: string, n: number) =>
  fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: `Dis un nombre entre 1 et ${n}.` }],
      max_tokens: 8,
    }),
  }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { choices?: { message: { content: string } }[] },
  }));

function answersOf(metrics: string, endpoint: string, outcome: string): number {
  const line = metrics
    .split('\n')
    .find((l) =>
      l.startsWith(`voice_llm_endpoint_answers_total{endpoint="${endpoint}",outcome="${outcome}"}`),
    );
  return Number(line?.split(' ').at(-1) ?? 0);
}

describe('llm.pool on two real Ollama servers', () => {
  it('poolSurvivesAStoppedServer: turns spread over both; with one stopped, every turn is answered by the other and /metrics shows it', async () => {
    const [a, b] = servers as [OllamaServer, OllamaServer];
    const config = loadConfig({
      env: {},
      overrides: {
        models: { dir: MODELS_DIR },
        llm: {
          pool: [a.url, b.url],
          ollamaModel: a.model,
          threads: 1,
          maxTokens: 8,
          // Checks would notice the stop before a turn does: this test wants a turn to find it.
          poolHealthIntervalMs: 600_000,
        },
      },
    });
    const llm = await loadLlm(config, new ModelManager({ modelsDir: MODELS_DIR }), silentLogger);
    expect(llm).toBeInstanceOf(LlmPool);
    expect(llm.info.engine).toBe('pool');
    const { app, base } = await listenOnLoopback(config, await fakeRuntime({ llm }, config));
    try {
      const first = await Promise.all([ask(base, 5), ask(base, 6)]);
      for (const r of first) {
        expect(r.status).toBe(200);
        expect(r.body.choices?.[0]?.message.content.length).toBeGreaterThan(0);
      }
      let metrics = await fetch(`${base}/metrics`).then((r) => r.text());
      expect(answersOf(metrics, a.url, 'ok')).toBe(1);
      expect(answersOf(metrics, b.url, 'ok')).toBe(1);

      await b.stop();
      for (let i = 0; i < 4; i++) {
        const r = await ask(base, 7 + i);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.choices?.[0]?.message.content.length).toBeGreaterThan(0);
      }
      metrics = await fetch(`${base}/metrics`).then((r) => r.text());
      expect(answersOf(metrics, a.url, 'ok')).toBe(5);
      // The first turn sent to the stopped server was refused there and answered by the other.
      expect(answersOf(metrics, b.url, 'failed')).toBe(1);
      expect(metrics).toContain(`voice_llm_endpoint_up{endpoint="${b.url}"} 0`);
      expect(metrics).toContain(`voice_llm_endpoint_up{endpoint="${a.url}"} 1`);
      const ready = (await fetch(`${base}/ready`).then((r) => r.json())) as {
        llmPool: { endpoint: string; up: boolean }[];
      };
      expect(ready.llmPool.map((e) => e.up)).toEqual([true, false]);
    } finally {
      await app.close();
      await llm.close();
    }
  }, 120_000);

  it('openai+ endpoints: the pool speaks to OpenAI-compatible servers too (Ollama’s /v1)', async () => {
    const [a, b] = servers as [OllamaServer, OllamaServer];
    await b.stop(); // the first test stopped it already: a down server at start is allowed
    const config = loadConfig({
      env: {},
      overrides: {
        llm: { pool: [`openai+${a.url}/v1`, `openai+${b.url}/v1`], openaiModel: a.model, maxTokens: 8 },
      },
    });
    const llm = await loadLlm(config, new ModelManager({ modelsDir: MODELS_DIR }), silentLogger);
    try {
      let text = '';
      for await (const e of llm.chat([{ role: 'user', content: 'Bonjour !' }]))
        if (e.type === 'delta') text += e.text;
      expect(text.length).toBeGreaterThan(0);
      const stats = (llm as LlmPool).stats();
      expect(stats.map((s) => [s.endpoint, s.up])).toEqual([
        [`openai+${a.url}/v1`, true],
        [`openai+${b.url}/v1`, false],
      ]);
      expect(stats[0]!.outcomes.ok).toBe(1);
    } finally {
      await llm.close();
    }
  }, 60_000);
});
