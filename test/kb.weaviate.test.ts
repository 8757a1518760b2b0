import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { loadLlm } from '../src/engines/factory.js';
import type { LlmEngine } from '../src/engines/llm/types.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { DEFAULT_CHUNKING } from '../src/rag/chunker.js';
import { parseDocument } from '../src/rag/formats.js';
import { openKnowledgeBase } from '../src/rag/open.js';
import type { KnowledgeBase } from '../src/rag/types.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';
import { startWeaviate, type WeaviateServer } from './weaviate-server.js';

/**
 * The knowledge base on a real Weaviate (built by scripts/install-weaviate.sh, started here):
 * the same French guide, found by the same questions; `voice kb` and `/chat` on SmolLM2 with
 * `rag.engine: weaviate`; and Weaviate stopped: answers go on without passages, `kb add` says why.
 */
const GUIDE = 'test/fixtures/kb/residence-les-tilleuls.md';
const QUESTION = 'Quel est le code du portail de la résidence Les Tilleuls ?';
let weaviate: WeaviateServer;
let config: Config;
let kb: KnowledgeBase;
let llm: LlmEngine;
const env = () => ({
  ...process.env,
  VOICE_RAG_ENGINE: 'weaviate',
  VOICE_RAG_WEAVIATE_URL: weaviate.url,
  VOICE_RAG_WEAVIATE_GRPC_PORT: String(weaviate.grpcPort),
  VOICE_RAG_WEAVIATE_TIMEOUT_MS: '2000',
});
const voice = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/voice.js', 'kb', ...args], {
    env: env(),
    encoding: 'utf8',
    timeout: 60_000,
  });

beforeAll(async () => {
  requireSharedAssets();
  weaviate = await startWeaviate();
  config = loadConfig({
    env: { MODELS_DIR, ...env() },
    overrides: { llm: { engine: 'llamacpp', temperature: 0 } },
  });
  kb = openKnowledgeBase(config)!;
  llm = await loadLlm(config, new ModelManager({ modelsDir: MODELS_DIR }), silentLogger);
}, 120_000);
afterAll(async () => {
  await kb?.close();
  await llm?.close();
  await weaviate?.stop();
});

/** The service on the real LLM and the Weaviate knowledge base (requests by inject). */
async function chatServer() {
  const runtime = await fakeRuntime({ llm }, config);
  return buildServer({
    config,
    logger: silentLogger,
    runtime: () => runtime,
    store: new SqliteStore(':memory:'),
    kb,
  });
}

describe('knowledge base on a real Weaviate', () => {
  it('adds, finds French questions, replaces, removes', async () => {
    const doc = await parseDocument(readFileSync(GUIDE), GUIDE, {
      maxBytes: 1 << 20,
      chunking: { ...DEFAULT_CHUNKING, targetWords: 30, maxWords: 60, overlapWords: 0 },
    });
    await kb.add([doc]);
    const top = async (q: string) => (await kb.search(q, { k: 1 }))[0]!;
    expect((await top('Quel est le code du portail ?')).text).toContain('4821');
    expect((await top('Quand est-ce que les poubelles de recyclage sont ramassées ?')).text).toContain(
      'mercredi',
    );
    expect(await top("Comment s'appelle le gardien ?")).toMatchObject({
      source: 'residence-les-tilleuls.md',
      chunkId: expect.stringMatching(/^doc_[0-9a-f]{16}#\d+$/) as string,
    });
    expect(await kb.search('le la les de')).toEqual([]);
    expect(await kb.list()).toMatchObject([{ id: doc.id, chunks: doc.chunks.length }]);
    await kb.add([
      {
        ...doc,
        sha256: 'changed',
        chunks: [{ heading: 'Accès', text: 'Le code du portail est désormais 7302.' }],
      },
    ]);
    expect((await top('code du portail')).text).toContain('7302');
    expect(await kb.list()).toMatchObject([{ id: doc.id, chunks: 1 }]);
    expect(await kb.remove(doc.id)).toBe(true);
    expect(await kb.remove(doc.id)).toBe(false);
    expect(await kb.search('code du portail')).toEqual([]);
  });

  it('voice kb and /chat with rag.engine: weaviate: the answer says the fact and lists its source', async () => {
    const added = voice('add', GUIDE);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/residence-les-tilleuls\.md: \d+ passages/);
    const app = await chatServer();
    try {
      const res = await app.inject({ method: 'POST', url: '/chat', payload: { message: QUESTION } });
      const body = res.json<{
        text: string;
        sources: { source: string }[];
        timings: { marks: Record<string, number> };
      }>();
      console.log(
        `/chat on Weaviate: ${JSON.stringify(body.text.slice(0, 120))}; search ${(body.timings.marks.rag_done! - body.timings.marks.rag_started!).toFixed(1)} ms`,
      );
      expect(body.text.split(/[.!?\n]/)[0]).toContain('4821');
      expect(body.sources[0]).toMatchObject({ source: 'residence-les-tilleuls.md' });
    } finally {
      await app.close();
    }
  });

  it('Weaviate stopped: /chat answers without passages within rag.timeoutMs, voice kb add says Weaviate cannot be reached', async () => {
    await weaviate.stop();
    const app = await chatServer();
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/chat',
        payload: { message: QUESTION, max_tokens: 8 },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ sources: unknown[]; timings: { marks: Record<string, number> } }>();
      expect(body.sources).toEqual([]);
      expect(body.timings.marks.rag_dropped! - body.timings.marks.rag_started!).toBeLessThanOrEqual(
        config.rag.timeoutMs + 50,
      );
      expect((await app.inject({ method: 'GET', url: '/ready' })).json<{ rag: object }>().rag).toMatchObject({
        engine: 'weaviate',
        state: 'failing',
      });
    } finally {
      await app.close();
    }
    const refused = voice('add', GUIDE);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/Weaviate at http:\/\/127\.0\.0\.1:\d+.*\[kb_unavailable\]/);
  });
});
