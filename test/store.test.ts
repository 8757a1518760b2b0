import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { VoiceError } from '../src/errors.js';
import { silentLogger } from '../src/log.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { PostgresStore } from '../src/store/postgres.js';
import { MIGRATIONS } from '../src/store/postgres-schema.js';
import type { ConversationLimits } from '../src/store/sqlite.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { ConversationStore } from '../src/store/types.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

const A = 'sub:alice';
const B = 'sub:bob';
const notFound: unknown = expect.objectContaining({ code: 'conversation_not_found' });
const UNLIMITED: ConversationLimits = { maxItems: 1_000_000, maxChars: 1_000_000_000 };

const item = (id: string, role: 'user' | 'assistant', text: string, createdAt = 1) => ({
  id,
  role,
  text,
  createdAt,
});

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.destroy());

const pgOptions = (limits: ConversationLimits) => ({
  limits,
  maxConnections: 4,
  connectTimeoutMs: 1000,
  queryTimeoutMs: 2000,
  logger: silentLogger,
});

/** Each test gets an empty database of its own. */
const backends: [string, (limits?: ConversationLimits) => Promise<ConversationStore>][] = [
  ['SQLite', (limits = UNLIMITED) => Promise.resolve(new SqliteStore(':memory:', limits))],
  [
    'PostgreSQL',
    async (limits = UNLIMITED) =>
      new PostgresStore(await server.createDatabase(`contract_${++databases}`), pgOptions(limits)),
  ],
];

describe.each(backends)('the conversation store on %s', (_name, open) => {
  it('keeps each conversation in order, apart from the others', async () => {
    const store = await open();
    await store.put(A, 'a', item('1', 'user', 'Bonjour'));
    await store.put(A, 'b', item('1', 'user', 'Hello'));
    await store.put(A, 'a', item('2', 'assistant', 'Bonjour !'));
    expect((await store.history(A, 'a')).map((i) => i.text)).toEqual(['Bonjour', 'Bonjour !']);
    expect((await store.history(A, 'b')).map((i) => i.text)).toEqual(['Hello']);
    await store.close();
  });

  it('a second put of an item changes its text and keeps its place', async () => {
    const store = await open();
    await store.put(A, 's', item('u1', 'user', ''));
    await store.put(
      A,
      's',
      item('a1', 'assistant', 'Il est midi à Paris. Bonne journée.', 1_780_000_000_000),
    );
    await store.put(A, 's', item('u1', 'user', 'Quelle heure est-il ?'));
    await store.put(A, 's', item('a1', 'assistant', 'Il est midi à Paris.', 1_780_000_000_000));
    expect(await store.history(A, 's')).toEqual([
      item('u1', 'user', 'Quelle heure est-il ?'),
      item('a1', 'assistant', 'Il est midi à Paris.', 1_780_000_000_000),
    ]);
    await store.close();
  });

  it('history with a limit gives the last items, oldest first; delete removes one', async () => {
    const store = await open();
    for (let i = 0; i < 5; i++) await store.put(A, 's', item(`i${i}`, i % 2 ? 'assistant' : 'user', `t${i}`));
    expect((await store.history(A, 's', 2)).map((i) => i.id)).toEqual(['i3', 'i4']);
    await store.delete(A, 's', 'i3');
    expect((await store.history(A, 's', 2)).map((i) => i.id)).toEqual(['i2', 'i4']);
    await store.close();
  });

  it('storedConversationIsCapped: past maxItems or maxChars the oldest items go, never the newest', async () => {
    const store = await open({ maxItems: 4, maxChars: 20 });
    for (let i = 0; i < 10; i++) await store.put(A, 's', item(`i${i}`, 'user', 'abcd'));
    expect((await store.history(A, 's')).map((i) => i.id)).toEqual(['i6', 'i7', 'i8', 'i9']);
    // 4 + 4 + 4 + 10 = 22 characters: over 20, so i7 goes too.
    await store.put(A, 's', item('big', 'assistant', '0123456789'));
    expect((await store.history(A, 's')).map((i) => i.id)).toEqual(['i8', 'i9', 'big']);
    // An item alone over the limit is kept (the newest always is); the others go.
    await store.put(A, 's', item('huge', 'user', 'x'.repeat(50)));
    expect((await store.history(A, 's')).map((i) => i.id)).toEqual(['huge']);
    // Another conversation is untouched.
    await store.put(A, 't', item('t1', 'user', 'abcd'));
    expect((await store.history(A, 't')).map((i) => i.id)).toEqual(['t1']);
    await store.close();
  });

  it('conversation ownership: another owner, and an id no one created, get conversation_not_found alike', async () => {
    const store = await open();
    await store.put(A, 's', item('1', 'user', 'Mon code est 1234'));
    await expect(store.history(B, 's')).rejects.toEqual(notFound);
    await expect(store.put(B, 's', item('2', 'user', 'Et moi ?'))).rejects.toEqual(notFound);
    await expect(store.delete(B, 's', '1')).rejects.toEqual(notFound);
    await expect(store.history(A, 'alice')).rejects.toEqual(notFound);
    await expect(store.history(A, 's', 0)).resolves.toEqual([]);
    // An empty owner is no one's (conversations saved before owners existed).
    await expect(store.put('', 'z', item('1', 'user', 'x'))).rejects.toEqual(notFound);
    expect((await store.history(A, 's')).map((i) => i.text)).toEqual(['Mon code est 1234']);
    await store.close();
  });

  it('fallback usage and call metadata add up per conversation, for its owner only', async () => {
    const store = await open();
    await store.put(A, 's1', item('1', 'user', 'Bonjour'));
    expect(await store.usage(A, 's1')).toEqual({ inputTokens: 0, outputTokens: 0 });
    await store.addUsage(A, 's1', { inputTokens: 132, outputTokens: 121 });
    await store.addUsage(A, 's1', { inputTokens: 10, outputTokens: 5 });
    expect(await store.usage(A, 's1')).toEqual({ inputTokens: 142, outputTokens: 126 });
    await expect(store.addUsage(B, 's1', { inputTokens: 1, outputTokens: 1 })).rejects.toEqual(notFound);
    await expect(store.usage(B, 's1')).rejects.toEqual(notFound);
    await store.addUsage(B, 's2', { inputTokens: 3, outputTokens: 4 });
    expect(await store.usage(B, 's2')).toEqual({ inputTokens: 3, outputTokens: 4 });
    expect(await store.meta(A, 's1')).toEqual({});
    const call = { transport: 'twilio', callSid: 'CA1', from: '+33100000000', to: '+33200000000' };
    await store.setMeta(A, 's1', call);
    expect(await store.meta(A, 's1')).toEqual(call);
    await expect(store.meta(B, 's1')).rejects.toEqual(notFound);
    await expect(store.setMeta(B, 's1', {})).rejects.toEqual(notFound);
    await store.setMeta(B, 's3', { callSid: 'CA2' });
    expect(await store.meta(B, 's3')).toEqual({ callSid: 'CA2' });
    expect(await store.history(B, 's3')).toEqual([]);
    await store.close();
  });

  it('concurrent puts to one conversation all land, in a total order', async () => {
    const store = await open();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.put(A, 's', item(`i${i}`, 'user', `t${i}`))),
    );
    const ids = (await store.history(A, 's')).map((i) => i.id);
    expect(ids.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `i${i}`).sort());
    await store.close();
  });

  it('reports itself ready; after close, calls fail with store_failed', async () => {
    const store = await open();
    expect((await store.status()).state).toBe('ok');
    await store.close();
    await expect(store.history(A, 's')).rejects.toEqual(expect.objectContaining({ code: 'store_failed' }));
  });
});

describe('PostgresStore', () => {
  it('what one instance saved is read by another, for its owner only', async () => {
    const url = await server.createDatabase('shared');
    const a = new PostgresStore(url, pgOptions(UNLIMITED));
    const b = new PostgresStore(url, pgOptions(UNLIMITED));
    await a.put(A, 's', item('1', 'user', 'Allume la lumière', 42));
    expect(await b.history(A, 's')).toEqual([item('1', 'user', 'Allume la lumière', 42)]);
    await expect(b.history(B, 's')).rejects.toEqual(notFound);
    await Promise.all([a.close(), b.close()]);
  });

  it('migrationsDoNotRace: instances starting at once on an empty database all come up, migrated once', async () => {
    const url = await server.createDatabase('race');
    const stores = Array.from({ length: 6 }, () => new PostgresStore(url, pgOptions(UNLIMITED)));
    await Promise.all(stores.map((s) => s.migrate()));
    await Promise.all(stores.map((s, i) => s.put(A, `s${i}`, item('1', 'user', 'x'))));
    const probe = new PostgresStore(url, pgOptions(UNLIMITED));
    for (let i = 0; i < stores.length; i++) expect(await probe.history(A, `s${i}`)).toHaveLength(1);
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ version: number }>('SELECT version FROM voice_schema_migrations');
    await client.end();
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await Promise.all([...stores, probe].map((s) => s.close()));
  });

  it('a database with a newer schema is refused, not written to', async () => {
    const url = await server.createDatabase('newer');
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      'CREATE TABLE voice_schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)',
    );
    await client.query('INSERT INTO voice_schema_migrations (version) VALUES (99)');
    await client.end();
    const store = new PostgresStore(url, pgOptions(UNLIMITED));
    const error = (await store.put(A, 's', item('1', 'user', 'x')).catch((e: unknown) => e)) as VoiceError;
    expect(error.code).toBe('store_failed');
    expect(error.message).toContain('schema version 99');
    await store.close();
  });

  it('the database going away: calls fail with store_unavailable, status says so, and it recovers without a new store', async () => {
    const url = await server.createDatabase('outage');
    const store = new PostgresStore(url, pgOptions(UNLIMITED));
    await store.put(A, 's', item('1', 'user', 'avant'));
    await server.stop();
    try {
      const status = await store.status();
      expect(status).toEqual(expect.objectContaining({ engine: 'postgres', state: 'unavailable' }));
      await expect(store.put(A, 's', item('2', 'user', 'pendant'))).rejects.toEqual(
        expect.objectContaining({ code: 'store_unavailable' }),
      );
    } finally {
      await server.start();
    }
    expect(await store.status()).toEqual({ engine: 'postgres', state: 'ok' });
    await store.put(A, 's', item('3', 'user', 'après'));
    expect((await store.history(A, 's')).map((i) => i.text)).toEqual(['avant', 'après']);
    await store.close();
  }, 30_000);

  it('an unreachable server fails calls with store_unavailable, never a hang', async () => {
    const store = new PostgresStore('postgres://postgres@127.0.0.1:9/none', pgOptions(UNLIMITED));
    const started = performance.now();
    await expect(store.history(A, 's')).rejects.toEqual(
      expect.objectContaining({ code: 'store_unavailable' }),
    );
    expect(performance.now() - started).toBeLessThan(5000);
    await store.close();
  });
});

describe('/ready with the PostgreSQL store', () => {
  it('databaseDownMakesReady503: 503 naming the database while it is down, 200 again once it is back, without a restart', async () => {
    const url = await server.createDatabase('ready');
    const store = new PostgresStore(url, pgOptions(UNLIMITED));
    const { app, base } = await listenOnLoopback(loadConfig({ env: {} }), await fakeRuntime(), undefined, {
      store,
    });
    try {
      const ready = () =>
        fetch(`${base}/ready`).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown>,
        }));
      expect((await ready()).status).toBe(200);
      await server.stop();
      try {
        const down = await ready();
        expect(down.status).toBe(503);
        expect(down.body.reason).toMatch(/^database unavailable/);
        expect(down.body.store).toEqual(
          expect.objectContaining({ engine: 'postgres', state: 'unavailable' }),
        );
      } finally {
        await server.start();
      }
      const back = await ready();
      expect(back.status).toBe(200);
      expect(back.body.store).toEqual({ engine: 'postgres', state: 'ok' });
    } finally {
      await app.close();
      await store.close();
    }
  }, 30_000);
});
