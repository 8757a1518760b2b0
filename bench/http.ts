/**
 * HTTP API benchmark (not a test). Starts `voice serve` as its own process on the real engines
 * and measures, as a client would: cold start to /ready, then for N distinct prompts in distinct
 * sessions (the seed's anti-cache method: no answer or sentence can come from a cache) the
 * `/her/chat` time to the first audio chunk and to the end, the `/chat` time to the first token
 * (SSE) and the `/tts` time to the first byte. The first request is reported beside the last, to
 * show the warm-up did its work. `npm run bench:http [-- N]` (default 10).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fmt, machineLine, percentile } from './lib.js';
import { startServerProcess, waitReady } from './server-process.js';
import { PROMPTS, TEXTS } from './data/prompts.js';

const n = Number(process.argv[2] ?? 10);
if (!(n >= 1 && n <= PROMPTS.length)) throw new Error(`N must be 1 to ${PROMPTS.length}`);

const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};
out(`# bench:http ${new Date().toISOString()}`);
out(await machineLine('llm auto, stt auto'));

const server = await startServerProcess();
const t0 = server.startedAt;
const base = server.base;
const listening = performance.now() - t0;
const ready = await waitReady<{
  readyAfterMs: number;
  engines: Record<string, { engine: string; model: string; warmMs: number }>;
}>(base);
const coldStart = performance.now() - t0;
out(
  `engines: ${Object.entries(ready.engines)
    .map(([stage, e]) => `${stage} ${e.engine} ${e.model} (warm-up ${fmt(e.warmMs)} ms)`)
    .join(', ')}`,
);

const post = (path: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Reads a streamed body; returns ms from `start` to the first chunk matching `first`, and to the end. */
async function timed(res: Response, start: number, first: (text: string) => boolean) {
  let firstAt = NaN;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    if (Number.isNaN(firstAt)) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (first(text)) firstAt = performance.now() - start;
    }
  }
  return { first: firstAt, total: performance.now() - start };
}

const her = { first: [] as number[], total: [] as number[] };
const chat: number[] = [];
const tts: number[] = [];
for (let i = 0; i < n; i++) {
  let start = performance.now();
  const h = await timed(await post('/her/chat', { message: PROMPTS[i]! }), start, (t) =>
    t.includes('"type":"audio"'),
  );
  her.first.push(h.first);
  her.total.push(h.total);
  start = performance.now();
  const c = await timed(
    await post('/chat', { message: PROMPTS[(i + 5) % PROMPTS.length]! }, { accept: 'text/event-stream' }),
    start,
    (t) => t.includes('"type":"text"'),
  );
  chat.push(c.first);
  start = performance.now();
  const res = await post('/tts', { text: TEXTS[i]! });
  const firstByte = await (async () => {
    const reader = res.body!.getReader();
    await reader.read();
    const at = performance.now() - start;
    while (!(await reader.read()).done);
    return at;
  })();
  tts.push(firstByte);
}

const row = (name: string, values: number[]) =>
  `| ${name} | ${values.length} | ${fmt(percentile(values, 50))} ms | ${fmt(percentile(values, 95))} ms | ${fmt(values[0]!)} ms | ${fmt(values.at(-1)!)} ms |`;
out('');
out(
  `cold start: listening after ${fmt(listening)} ms, /ready true after ${fmt(coldStart)} ms (load and warm-up: ${fmt(ready.readyAfterMs)} ms)`,
);
out('');
out('| measure (client side, distinct prompt and session each) | n | p50 | p95 | first | last |');
out('|---|---|---|---|---|---|');
out(row('/her/chat → first audio chunk', her.first));
out(row('/her/chat → end of the answer', her.total));
out(row('/chat (SSE) → first token', chat));
out(row('/tts → first byte (WAV)', tts));
await server.stop();
mkdirSync(new URL('reports', import.meta.url), { recursive: true });
writeFileSync(new URL('reports/http.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);
