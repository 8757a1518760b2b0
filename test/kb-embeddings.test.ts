import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DEFAULT_CHUNKING } from '../src/rag/chunker.js';
import { createEmbedder, type Embedder } from '../src/rag/embeddings.js';
import { parseDocument } from '../src/rag/formats.js';
import { embedderOf } from '../src/rag/open.js';
import { SqliteKnowledgeBase } from '../src/rag/sqlite-kb.js';
import type { KnowledgeDocument } from '../src/rag/types.js';
import { WeaviateKnowledgeBase } from '../src/rag/weaviate-kb.js';
import { freePort, MODELS_DIR, requireSharedAssets } from './helpers.js';
import { startOllama, type OllamaServer } from './ollama-server.js';
import { startWeaviate, type WeaviateServer } from './weaviate-server.js';

/**
 * Vectors in the knowledge base (`rag.embeddings`), from a real Ollama server (SmolLM2-135M's
 * embeddings: the plumbing is real, their quality is a small chat model's): both embeddings APIs,
 * vectors stored beside the SQLite rows and searched hybrid, the same on a real Weaviate, and an
 * embeddings server that does not answer.
 */
const FIXTURES = 'test/fixtures/kb';
const QUESTION = 'Quel est le code du portail de la résidence Les Tilleuls ?';
let ollama: OllamaServer;
let weaviate: WeaviateServer;
let embedder: Embedder;
let docs: KnowledgeDocument[];
const dir = mkdtempSync(join(tmpdir(), 'kb-embeddings-'));
const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

beforeAll(async () => {
  requireSharedAssets();
  [ollama, weaviate] = await Promise.all([startOllama(), startWeaviate()]);
  embedder = createEmbedder({
    engine: 'ollama',
    url: ollama.url,
    model: ollama.model,
    apiKey: '',
    timeoutMs: 30_000,
  });
  docs = await Promise.all(
    readdirSync(FIXTURES).map((f) =>
      parseDocument(readFileSync(join(FIXTURES, f)), f, { maxBytes: 1 << 20, chunking: DEFAULT_CHUNKING }),
    ),
  );
}, 180_000);
afterAll(async () => {
  await Promise.all([ollama?.stop(), weaviate?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('knowledge base vectors from a real Ollama', () => {
  it('Ollama /api/embed and the OpenAI-compatible /v1/embeddings give the same unit vectors, in order', async () => {
    const texts = ['Le portail est au nord.', 'La laverie ouvre à 7 h.', 'Le portail est au nord.'];
    const native = await embedder.embed(texts);
    const config = loadConfig({
      env: {},
      overrides: { rag: { embeddings: { engine: 'openai', url: `${ollama.url}/v1`, model: ollama.model } } },
    });
    const openai = await embedderOf(config)!.embed(texts);
    expect(native).toHaveLength(3);
    expect(new Set(native.map((v) => v.length)).size).toBe(1);
    for (const v of [...native, ...openai]) expect(cos(v, v)).toBeCloseTo(1, 4);
    expect(cos(native[0]!, native[2]!)).toBeCloseTo(1, 4);
    expect(cos(native[0]!, native[1]!)).toBeLessThan(0.999);
    for (let i = 0; i < 3; i++) expect(cos(native[i]!, openai[i]!)).toBeGreaterThan(0.99);
  });

  it('SQLite: each passage’s vector is stored beside it; a question none of whose words is indexed still finds passages by vector, and hybrid keeps the BM25 answer', async () => {
    const path = join(dir, 'kb.db');
    const lexical = new SqliteKnowledgeBase(path, 'fr');
    const hybrid = new SqliteKnowledgeBase(path, 'fr', { embedder, vectorWeight: 0.3 });
    await hybrid.add(docs);
    const chunks = docs.reduce((n, d) => n + d.chunks.length, 0);
    const db = new Database(path, { readonly: true });
    const vectors = () =>
      db.prepare('SELECT count(*) AS n, min(model) AS model FROM kb_vectors').get() as {
        n: number;
        model: string;
      };
    expect(vectors()).toEqual({ n: chunks, model: `ollama ${ollama.model}` });

    const unknownWords = 'Xylophones zéphyriens quadrangulaires ?';
    expect(await lexical.search(unknownWords)).toEqual([]);
    expect(await hybrid.search(unknownWords, { k: 2 })).toHaveLength(2);
    const found = await hybrid.search(QUESTION);
    expect(found.map((p) => p.text).join(' ')).toContain('4821');

    // A changed document replaces its passages and their vectors.
    const guide = docs.find((d) => d.source === 'residence-les-tilleuls.md')!;
    await hybrid.add([{ ...guide, sha256: 'changed', chunks: guide.chunks.slice(0, 1) }]);
    expect(vectors().n).toBe(chunks - guide.chunks.length + 1);
    db.close();
    await lexical.close();
    await hybrid.close();
  });

  it('Weaviate: passages inserted with their vectors, hybrid and vector-only searches', async () => {
    const kb = new WeaviateKnowledgeBase({
      url: weaviate.url,
      grpcPort: weaviate.grpcPort,
      apiKey: '',
      collection: 'HybridTest',
      timeoutMs: 10_000,
      language: 'fr',
      embedder,
      vectorWeight: 0.3,
    });
    await kb.add(docs);
    const found = await kb.search(QUESTION);
    expect(found.map((p) => p.text).join(' ')).toContain('4821');
    expect(await kb.search('Xylophones zéphyriens quadrangulaires ?', { k: 2 })).toHaveLength(2);
    // Only stop words: no terms, so the question's vector alone searches.
    expect(await kb.search('Est-ce que ce sont les leurs ?', { k: 1 })).toHaveLength(1);
    await kb.close();
  });

  it('voice doctor says the knowledge base is hybrid and searches it, or why its embeddings fail (DEGRADED)', async () => {
    const doctor = (url: string) =>
      spawnSync(process.execPath, ['bin/voice.js', 'doctor'], {
        env: {
          ...process.env,
          MODELS_DIR,
          OLLAMA_HOST: '127.0.0.1:9',
          VOICE_STORE_PATH: join(dir, 'doctor.db'),
          VOICE_RAG_EMBEDDINGS_ENGINE: 'ollama',
          VOICE_RAG_EMBEDDINGS_URL: url,
          VOICE_RAG_EMBEDDINGS_MODEL: ollama.model,
        },
        encoding: 'utf8',
        timeout: 120_000,
      });
    const ok = doctor(ollama.url);
    expect(ok.stdout).toMatch(/^rag\s+ready\s+sqlite hybrid \(ollama embeddings, smollm2:135m\), /m);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const down = doctor(dead);
    expect(down.status).toBe(0); // optional: never a failure
    expect(down.stdout).toMatch(new RegExp(`^rag\\s+DEGRADED .*embeddings at ${dead}`, 'm'));
  });

  it('an embeddings server that does not answer: kb_unavailable naming it, and nothing half-indexed', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const broken = createEmbedder({ engine: 'ollama', url, model: 'x', apiKey: '', timeoutMs: 2000 });
    const kb = new SqliteKnowledgeBase(join(dir, 'broken.db'), 'fr', { embedder: broken });
    await expect(kb.add(docs)).rejects.toMatchObject({
      code: 'kb_unavailable',
      message: expect.stringContaining(`embeddings at ${url}`) as string,
    });
    expect(await kb.list()).toEqual([]);
    await expect(kb.search(QUESTION)).rejects.toMatchObject({ code: 'kb_unavailable' });
    await kb.close();
  });
});
