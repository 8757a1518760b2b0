import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { FakeLlm } from '../src/testing/fake-engines.js';
import { FakeRetriever, passage } from '../src/testing/fake-retriever.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';

/** The knowledge base over HTTP, on scripted engines and a scripted knowledge base that can hang. */
const warnings: string[] = [];
const logger = pino(
  { level: 'warn' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  }),
);
const kb = new FakeRetriever(() => [passage('Le code du portail est 4821.', 'residence.md')]);
const llm = new FakeLlm(() => ({ tokens: ['Voilà.'] }));
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;

beforeAll(async () => {
  const config = loadConfig({ env: {}, overrides: { rag: { timeoutMs: 200 } } });
  const runtime = await fakeRuntime({ llm }, config);
  app = await buildServer({ config, logger, runtime: () => runtime, store: new SqliteStore(':memory:'), kb });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  kb.release();
  await app?.close();
});

const chat = async (message: string) => {
  const res = await fetch(`${url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    text: string;
    sources: { source: string; chunk_id: string }[];
    timings: { marks: Record<string, number> };
  };
};

describe('knowledge base over HTTP', () => {
  it('/chat is prompted with the passages and lists them; /her/chat too', async () => {
    const body = await chat('Quel est le code du portail ?');
    expect(body.sources).toEqual([{ source: 'residence.md', chunk_id: 'doc_test#0' }]);
    expect(llm.calls.at(-1)![0]!.content).toContain('Le code du portail est 4821.');
    const her = await fetch(`${url}/her/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Et le code ?' }),
    });
    const done = (await her.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; sources?: unknown })
      .at(-1)!;
    expect(done).toMatchObject({
      type: 'done',
      sources: [{ source: 'residence.md', chunk_id: 'doc_test#0' }],
    });
  });

  it('a knowledge base that hangs delays an answer by rag.timeoutMs at most: no passages, rag_dropped, one warning, /ready stays 200 and says so', async () => {
    kb.mode = 'hang';
    const t0 = performance.now();
    const first = await chat('Quel est le code du portail ?');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(first.sources).toEqual([]);
    expect(first.timings.marks.rag_dropped! - first.timings.marks.rag_started!).toBeGreaterThanOrEqual(195);
    expect(first.timings.marks.rag_done).toBeUndefined();
    expect(llm.calls.at(-1)![0]!.content).not.toContain('4821');
    await chat('Encore une question ?');
    expect(warnings.filter((w) => w.startsWith('knowledge base search took over 200 ms'))).toHaveLength(1);
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { rag: object }).rag).toMatchObject({ engine: 'fake', state: 'failing' });
    kb.mode = 'answer';
    kb.release();
    expect((await chat('Et maintenant ?')).sources).toHaveLength(1);
    expect(((await (await fetch(`${url}/ready`)).json()) as { rag: object }).rag).toEqual({
      engine: 'fake',
      state: 'ok',
    });
  });
});
