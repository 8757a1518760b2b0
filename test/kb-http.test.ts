import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { SqliteKnowledgeBase } from '../src/rag/sqlite-kb.js';
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
    expect(llm.calls.at(-1)!.at(-2)!.content).toContain('Le code du portail est 4821.');
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
    expect(JSON.stringify(llm.calls.at(-1))).not.toContain('4821');
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

describe('/v1/kb: documents and search over HTTP (embedded SQLite knowledge base, auth on)', () => {
  const SECRET = 'a-test-secret-of-at-least-32-characters!';
  const sign = (scope?: string) => {
    const jwt = new SignJWT(scope ? { scope } : {})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('editor')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600);
    return jwt.sign(new TextEncoder().encode(SECRET));
  };
  let server: Awaited<ReturnType<typeof buildServer>>;
  let base: string;
  let store: SqliteKnowledgeBase;
  let writer: string;
  let reader: string;
  beforeAll(async () => {
    const config = loadConfig({
      env: {},
      overrides: { auth: { enabled: true, secret: SECRET }, rag: { maxDocumentBytes: 64 * 1024 } },
    });
    store = new SqliteKnowledgeBase(':memory:');
    const runtime = await fakeRuntime({}, config);
    server = await buildServer({
      config,
      logger: silentLogger,
      runtime: () => runtime,
      store: new SqliteStore(':memory:'),
      kb: store,
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
    writer = await sign('openid kb:write');
    reader = await sign();
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const upload = (name: string, body: string | Uint8Array, type: string, token = writer) => {
    const form = new FormData();
    form.append('file', new Blob([body], { type }), name);
    return fetch(`${base}/v1/kb/documents`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${token}` },
    });
  };
  const errorOf = async (res: Response) => ({
    status: res.status,
    ...((await res.json()) as { error: { code: string; message: string } }).error,
  });

  it('uploads, lists, searches and deletes; a file of the same name replaces its passages', async () => {
    const guide = readFileSync('test/fixtures/kb/residence-les-tilleuls.md');
    const added = await upload('residence-les-tilleuls.md', guide.subarray(0, 4000), 'text/markdown');
    expect(added.status).toBe(201);
    const doc = (await added.json()) as { id: string; passages: number };
    expect(doc.passages).toBeGreaterThan(0);
    const html = '<h1>Piscine</h1><p>La piscine ouvre à 9&nbsp;h le samedi.</p>';
    expect((await upload('piscine.html', html, 'text/html')).status).toBe(201);
    const list = (await (
      await fetch(`${base}/v1/kb/documents`, { headers: { authorization: `Bearer ${reader}` } })
    ).json()) as {
      documents: { id: string; source: string }[];
    };
    expect(list.documents.map((d) => d.source)).toEqual(['piscine.html', 'residence-les-tilleuls.md']);
    const search = async (query: string) =>
      (await (
        await fetch(`${base}/v1/kb/search`, {
          method: 'POST',
          headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query, k: 1 }),
        })
      ).json()) as { results: { source: string; chunk_id: string; text: string; score: number }[] };
    expect((await search('Quand ouvre la piscine ?')).results[0]).toMatchObject({ source: 'piscine.html' });
    expect((await search('le code du portail')).results[0]!.text).toContain('4821');
    expect(
      (await upload('piscine.html', '<p>La piscine est fermée pour travaux.</p>', 'text/html')).status,
    ).toBe(201);
    expect((await search('piscine')).results[0]!.text).toContain('travaux');
    const del = await fetch(`${base}/v1/kb/documents/${doc.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${writer}` },
    });
    expect(await del.json()).toEqual({ id: doc.id, deleted: true });
    expect((await search('le code du portail')).results).toEqual([]);
  });

  it('a PDF is read in the worker thread; a scan without text is refused as empty', async () => {
    const pdf = readFileSync('test/fixtures/kb-pdf/reglement-mediatheque.pdf');
    const added = await upload('reglement-mediatheque.pdf', new Uint8Array(pdf), 'application/pdf');
    expect(added.status).toBe(201);
    const found = (await (
      await fetch(`${base}/v1/kb/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: "Combien coûte l'inscription pour un adulte ?", k: 1 }),
      })
    ).json()) as { results: { source: string; text: string }[] };
    expect(found.results[0]).toMatchObject({ source: 'reglement-mediatheque.pdf' });
    expect(found.results[0]!.text).toContain('12 euros');
    const scan = readFileSync('test/fixtures/kb-pdf/scan-sans-texte.pdf');
    expect(await errorOf(await upload('scan.pdf', new Uint8Array(scan), 'application/pdf'))).toMatchObject({
      status: 422,
      code: 'kb_document_empty',
      message: 'scan.pdf: no text to index',
    });
  });

  it('bad input and rights: coded errors naming the file, nothing indexed', async () => {
    const before = await store.list();
    expect(await errorOf(await upload('x.md', '# X\n\nY.', 'text/markdown', reader))).toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    expect(await errorOf(await upload('photo.jpg', 'x', 'image/jpeg'))).toMatchObject({
      status: 415,
      code: 'kb_unsupported_type',
      message: expect.stringContaining('photo.jpg') as string,
    });
    expect(await errorOf(await upload('gros.md', 'mot '.repeat(20_000), 'text/markdown'))).toMatchObject({
      status: 413,
      code: 'kb_document_too_large',
    });
    expect(
      await errorOf(await upload('binaire.txt', new Uint8Array([0xff, 0xfe, 0, 0xd8]), 'text/plain')),
    ).toMatchObject({
      status: 422,
      code: 'kb_document_unreadable',
    });
    expect(await errorOf(await upload('vide.md', '\n', 'text/markdown'))).toMatchObject({
      status: 422,
      code: 'kb_document_empty',
    });
    const del = await fetch(`${base}/v1/kb/documents/doc_nope`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${writer}` },
    });
    expect(await errorOf(del)).toMatchObject({ status: 404, code: 'kb_document_not_found' });
    expect((await fetch(`${base}/v1/kb/documents`)).status).toBe(401);
    expect(await store.list()).toEqual(before);
  });
});
