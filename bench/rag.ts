/**
 * bench:rag — the knowledge base's retrieval: latency of the embedded index (SQLite FTS5) at 1k,
 * 10k and 100k passages with 1, 4 and 16 searches at a time, and how often the right passage comes
 * first on a French question set (bench/data/rag-qa.tsv over test/fixtures/kb).
 *
 * The large indexes are generated: passages of about 150 words drawn from a list of 336,000 real
 * French words (an-array-of-french-words) with Zipf frequencies, each with two real sentences of
 * the fixture documents, so posting lists have the shape of real text. Queries are questions made
 * from the words of random passages.
 *
 * Usage: npm run bench:rag [-- SIZES] [--weaviate] (default 1000,10000,100000). `--weaviate`: the
 * same searches on a real Weaviate too (started here: scripts/install-weaviate.sh builds it).
 *
 * `npm run bench:rag -- --turns [TURNS]`: instead, its effect on voice turns: the same real French
 * commands without, then with, a knowledge base on their topic (bench:turns' --rag mode).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CHUNKING } from '../src/rag/chunker.js';
import type { Embedder } from '../src/rag/embeddings.js';
import { parseDocument } from '../src/rag/formats.js';
import { SqliteKnowledgeBase } from '../src/rag/sqlite-kb.js';
import type { KnowledgeBase, KnowledgeDocument } from '../src/rag/types.js';
import { WeaviateKnowledgeBase } from '../src/rag/weaviate-kb.js';
import { startWeaviate } from '../test/weaviate-server.js';
import { prng } from '../src/testing/prng.js';
import { fmt, machineLine, percentile } from './lib.js';

if (process.argv[2] === '--turns') {
  const turns = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('turns.ts', import.meta.url)),
      '--rag',
      process.argv[3] ?? '12',
    ],
    { stdio: 'inherit' },
  );
  process.exit(turns.status ?? 1);
}

const args = process.argv.slice(2);
const withWeaviate = args.includes('--weaviate');
const sizes = (args.find((a) => !a.startsWith('--')) ?? '1000,10000,100000').split(',').map(Number);
const FIXTURES = 'test/fixtures/kb';
const out = (s: string) => process.stdout.write(`${s}\n`);
const random = prng(7);
const words = (createRequire(import.meta.url)('an-array-of-french-words') as string[]).filter((w) =>
  /^[a-zà-ÿœæ-]+$/.test(w),
);
// The list is alphabetical: shuffled, so that frequent words are not all words in "a".
for (let i = words.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [words[i], words[j]] = [words[j]!, words[i]!];
}
// Zipf: the word of rank r is drawn with probability ~ 1/r.
const harmonic = Math.log(words.length) + 0.5772;
const zipfWord = () => words[Math.min(words.length - 1, Math.floor(Math.exp(random() * harmonic)) - 1)]!;
const docs = await Promise.all(
  readdirSync(FIXTURES).map((f) =>
    parseDocument(readFileSync(join(FIXTURES, f)), f, { maxBytes: 1 << 20, chunking: DEFAULT_CHUNKING }),
  ),
);
const sentences = docs.flatMap((d) => d.chunks.flatMap((c) => c.text.split(/(?<=[.!?])\s+/)));

/** `n` passages; `real`: each with two sentences of the fixture documents. */
function generated(n: number, real = true): KnowledgeDocument[] {
  const perDoc = 100;
  const out: KnowledgeDocument[] = [];
  const sentence = () => sentences[Math.floor(random() * sentences.length)]!;
  for (let d = 0; d * perDoc < n; d++) {
    const chunks = Array.from({ length: Math.min(perDoc, n - d * perDoc) }, () => {
      const text = Array.from({ length: 150 }, zipfWord).join(' ');
      const heading = `Section ${Math.floor(random() * 1000)}`;
      return { heading, text: real ? `${sentence()} ${text}. ${sentence()}` : `${text}.` };
    });
    out.push({ id: `doc_gen_${d}`, source: `generated-${d}.md`, sha256: String(d), bytes: 0, chunks });
  }
  return out;
}

/** Seeded random unit vectors, one per distinct text: an embedder's shape without its server. */
function standInEmbedder(dims: number): Embedder {
  return {
    id: `stand-in ${dims}`,
    embed(texts) {
      return Promise.resolve(
        texts.map((t) => {
          let seed = 0;
          for (let i = 0; i < t.length; i++) seed = (seed * 31 + t.charCodeAt(i)) >>> 0;
          const next = prng(seed);
          const v = Float32Array.from({ length: dims }, () => next() - 0.5);
          const norm = Math.hypot(...v);
          return v.map((x) => x / norm);
        }),
      );
    },
  };
}

/** Questions from the words of random passages: 3 to 6 of them after a question opening. */
function questionsFrom(corpus: KnowledgeDocument[]): string[] {
  return Array.from({ length: 400 }, () => {
    const doc = corpus[Math.floor(random() * corpus.length)]!;
    const chunkWords = doc.chunks[Math.floor(random() * doc.chunks.length)]!.text.split(' ');
    const pick = Array.from(
      { length: 3 + Math.floor(random() * 4) },
      () => chunkWords[Math.floor(random() * chunkWords.length)],
    );
    return `Qu'est-ce que ${pick.join(' ')} ?`;
  });
}

/**
 * Searches in bursts of `concurrency` asked at the same moment (sessions whose turns end
 * together): each one's latency runs from the burst's start, so it includes the wait for the
 * searches ahead of it (SQLite answers on the event loop's thread, one at a time).
 */
async function timeSearches(
  kb: Pick<KnowledgeBase, 'search'>,
  queries: string[],
  concurrency: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < queries.length; i += concurrency) {
    const t0 = performance.now();
    await Promise.all(
      queries.slice(i, i + concurrency).map(async (q) => {
        await new Promise((r) => setImmediate(r));
        await kb.search(q, { k: 3 });
        latencies.push(performance.now() - t0);
      }),
    );
  }
  return latencies;
}

/**
 * The table's rows for one index: 1, 4 and 16 searches at a time, after 20 that warm the page
 * cache (and the worker); the last column is what a live session would feel: how late a 1 ms
 * timer fires while the searches run.
 */
async function timeRows(kb: Pick<KnowledgeBase, 'search'>, queries: string[], head: string) {
  await timeSearches(kb, queries.slice(0, 20), 1);
  for (const c of [1, 4, 16]) {
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const l = await timeSearches(kb, queries, c);
    loop.disable();
    out(
      `${head} ${c} | ${l.length} | ${fmt(percentile(l, 50))} ms | ${fmt(percentile(l, 95))} ms | ${fmt(percentile(l, 99))} ms | ${fmt(Math.max(...l))} ms | ${fmt(loop.max / 1e6)} ms |`,
    );
  }
}

out(`# bench:rag ${new Date().toISOString()}`);
out(await machineLine('sqlite: the event loop thread'));
out('');
out(
  '| passages | index build | search | concurrent searches | n | p50 | p95 | p99 | max | event loop stall, max |',
);
out('|---|---|---|---|---|---|---|---|---|---|');
const tmp = mkdtempSync(join(tmpdir(), 'bench-rag-'));
try {
  for (const n of sizes) {
    const path = join(tmp, `kb-${n}.db`);
    const builder = new SqliteKnowledgeBase(path, 'fr', { searchInWorker: false });
    const corpus = generated(n);
    const t0 = performance.now();
    for (let i = 0; i < corpus.length; i += 50) await builder.add(corpus.slice(i, i + 50));
    const buildSec = (performance.now() - t0) / 1000;
    await builder.close();
    const queries = questionsFrom(corpus);
    // Hybrid: the same passages with vectors. What is timed is the search (BM25, the cosine over
    // every vector in the worker, the fusion), so the vectors come from a stand-in embedder
    // (seeded random unit vectors of 384 values, the size of small multilingual models), not a server.
    {
      const hybridPath = join(tmp, `kb-${n}-vectors.db`);
      const embedder = standInEmbedder(384);
      const hybridBuilder = new SqliteKnowledgeBase(hybridPath, 'fr', { searchInWorker: false, embedder });
      const h0 = performance.now();
      for (let i = 0; i < corpus.length; i += 50) await hybridBuilder.add(corpus.slice(i, i + 50));
      const hybridBuildSec = (performance.now() - h0) / 1000;
      await hybridBuilder.close();
      const kb = new SqliteKnowledgeBase(hybridPath, 'fr', { embedder });
      await timeRows(
        kb,
        queries,
        `| ${n} | ${hybridBuildSec.toFixed(1)} s | worker thread, hybrid (384-d vectors) |`,
      );
      await kb.close();
    }
    for (const inWorker of [false, true]) {
      const kb = new SqliteKnowledgeBase(path, 'fr', { searchInWorker: inWorker });
      await timeRows(
        kb,
        queries,
        `| ${n} | ${buildSec.toFixed(1)} s | ${inWorker ? 'worker thread' : 'event loop'} |`,
      );
      await kb.close();
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (withWeaviate) {
  // The same kind of passages and questions on a real Weaviate (BM25 over the same French terms).
  const server = await startWeaviate();
  try {
    for (const n of sizes) {
      const kb = new WeaviateKnowledgeBase({
        url: server.url,
        grpcPort: server.grpcPort,
        apiKey: '',
        collection: `Bench${n}`,
        timeoutMs: 60_000,
        language: 'fr',
      });
      const corpus = generated(n);
      const t0 = performance.now();
      for (let i = 0; i < corpus.length; i += 50) await kb.add(corpus.slice(i, i + 50));
      const buildSec = (performance.now() - t0) / 1000;
      const queries = questionsFrom(corpus);
      await timeRows(kb, queries, `| ${n} | ${buildSec.toFixed(1)} s | Weaviate |`);
      await kb.close();
    }
  } finally {
    await server.stop();
  }
}

// Answer hits: the fixture documents alone, then among 10,000 generated passages.
const qa = readFileSync('bench/data/rag-qa.tsv', 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l) => l.split('\t') as [string, string, string]);
out('');
out('| index | questions | right passage first | in the first 3 |');
out('|---|---|---|---|');
for (const extra of [0, 10000]) {
  const kb = new SqliteKnowledgeBase(':memory:');
  await kb.add(docs);
  if (extra) await kb.add(generated(extra, false));
  let first = 0;
  let top3 = 0;
  for (const [question, source, fact] of qa) {
    const found = await kb.search(question, { k: 3 });
    const hit = (i: number) => found[i]?.source === source && found[i]?.text.includes(fact) === true;
    if (hit(0)) first++;
    if ([0, 1, 2].some(hit)) top3++;
    else if (process.env.VERBOSE) out(`miss: ${question} -> ${found.map((f) => f.source).join(', ')}`);
  }
  out(
    `| the 3 fixture documents${extra ? ` + ${extra} generated passages` : ''} | ${qa.length} | ${first} | ${top3} |`,
  );
  await kb.close();
}
