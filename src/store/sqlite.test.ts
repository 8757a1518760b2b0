import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VoiceError } from '../errors.js';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite.js';

const A = 'sub:alice';
const B = 'sub:bob';
const notFound: unknown = expect.objectContaining({ code: 'conversation_not_found' });

const dirs: string[] = [];
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'voice-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'conversations.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const item = (id: string, role: 'user' | 'assistant', text: string, createdAt = 1) => ({
  id,
  role,
  text,
  createdAt,
});

describe('SqliteStore', () => {
  it('what was saved is there after the store is closed and opened again', async () => {
    const path = tempDb();
    const first = new SqliteStore(path);
    await first.put(A, 's', item('1', 'user', 'Allume la lumière', 42));
    await first.close();
    const second = new SqliteStore(path);
    expect(await second.history(A, 's')).toEqual([item('1', 'user', 'Allume la lumière', 42)]);
    await second.close();
  });

  it('after close, calls fail with store_failed', async () => {
    const store = new SqliteStore(':memory:');
    await store.close();
    const error = await store.history(A, 's').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceError);
    expect((error as VoiceError).code).toBe('store_failed');
  });

  it('a path that cannot be a database is store_unavailable', () => {
    const file = tempDb().replace('conversations.db', 'a-file');
    new SqliteStore(file.replace('a-file', 'x.db')); // creates the folder
    writeFileSync(file, 'not a folder');
    for (const path of [join(file, 'under-a-file.db'), file])
      expect(() => new SqliteStore(path), path).toThrow(
        expect.objectContaining({ code: 'store_unavailable' }),
      );
  });

  it('a file written before owners existed keeps its items, reachable by no one', async () => {
    const path = tempDb();
    new SqliteStore(path.replace('conversations.db', 'x.db')); // creates the folder
    const old = new Database(path);
    old.exec(`CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
      item_id TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL,
      UNIQUE (session_id, item_id));
      INSERT INTO items (session_id, item_id, role, text, created_at) VALUES ('alice', '1', 'user', 'Bonjour', 5);`);
    old.close();
    const store = new SqliteStore(path);
    expect(store.unowned).toBe(1);
    for (const owner of [A, 'anonymous', ''])
      await expect(store.history(owner, 'alice'), owner).rejects.toEqual(notFound);
    await expect(store.put('anonymous', 'alice', item('2', 'user', 'x'))).rejects.toEqual(notFound);
    await store.close();
    const again = new SqliteStore(path);
    expect(again.unowned).toBe(0);
    await again.close();
  });

  it('fallback usage adds up per conversation, for its owner only; a version-1 file gains the columns', async () => {
    const path = tempDb();
    new SqliteStore(path.replace('conversations.db', 'x.db')); // creates the folder
    const v1 = new Database(path);
    v1.exec(`CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
        item_id TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL,
        UNIQUE (session_id, item_id));
      INSERT INTO conversations VALUES ('s1', '${A}', 5);
      INSERT INTO items (session_id, item_id, role, text, created_at) VALUES ('s1', '1', 'user', 'Bonjour', 5);
      PRAGMA user_version = 1;`);
    v1.close();
    const store = new SqliteStore(path);
    expect(store.unowned).toBe(0);
    expect(await store.usage(A, 's1')).toEqual({ inputTokens: 0, outputTokens: 0 });
    await store.addUsage(A, 's1', { inputTokens: 132, outputTokens: 121 });
    await store.addUsage(A, 's1', { inputTokens: 10, outputTokens: 5 });
    expect(await store.usage(A, 's1')).toEqual({ inputTokens: 142, outputTokens: 126 });
    expect((await store.history(A, 's1')).map((i) => i.text)).toEqual(['Bonjour']);
    await expect(store.addUsage(B, 's1', { inputTokens: 1, outputTokens: 1 })).rejects.toEqual(notFound);
    await expect(store.usage(B, 's1')).rejects.toEqual(notFound);
    // A new conversation may get its usage before its first item is saved.
    await store.addUsage(B, 's2', { inputTokens: 3, outputTokens: 4 });
    expect(await store.usage(B, 's2')).toEqual({ inputTokens: 3, outputTokens: 4 });
    await store.close();
  });

  it('call metadata is kept per conversation, for its owner only; a version-2 file gains the column', async () => {
    const path = tempDb();
    new SqliteStore(path.replace('conversations.db', 'x.db')); // creates the folder
    const v2 = new Database(path);
    v2.exec(`CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at INTEGER NOT NULL,
        fallback_input_tokens INTEGER NOT NULL DEFAULT 0, fallback_output_tokens INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
        item_id TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL,
        UNIQUE (session_id, item_id));
      INSERT INTO conversations VALUES ('s1', '${A}', 5, 7, 8);
      PRAGMA user_version = 2;`);
    v2.close();
    const store = new SqliteStore(path);
    expect(await store.meta(A, 's1')).toEqual({});
    expect(await store.usage(A, 's1')).toEqual({ inputTokens: 7, outputTokens: 8 });
    const call = { transport: 'twilio', callSid: 'CA1', from: '+33100000000', to: '+33200000000' };
    await store.setMeta(A, 's1', call);
    expect(await store.meta(A, 's1')).toEqual(call);
    await expect(store.meta(B, 's1')).rejects.toEqual(notFound);
    await expect(store.setMeta(B, 's1', {})).rejects.toEqual(notFound);
    // A call's metadata is saved before anything is said: it creates the conversation.
    await store.setMeta(B, 's2', { callSid: 'CA2' });
    expect(await store.meta(B, 's2')).toEqual({ callSid: 'CA2' });
    expect(await store.history(B, 's2')).toEqual([]);
    await store.close();
  });
});
