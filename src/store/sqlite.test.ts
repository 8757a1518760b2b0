import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VoiceError } from '../errors.js';
import { SqliteStore } from './sqlite.js';

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
  it('keeps each conversation in order, apart from the others', async () => {
    const store = new SqliteStore(':memory:');
    await store.put('a', item('1', 'user', 'Bonjour'));
    await store.put('b', item('1', 'user', 'Hello'));
    await store.put('a', item('2', 'assistant', 'Bonjour !'));
    expect((await store.history('a')).map((i) => i.text)).toEqual(['Bonjour', 'Bonjour !']);
    expect((await store.history('b')).map((i) => i.text)).toEqual(['Hello']);
    expect(await store.history('unknown')).toEqual([]);
    await store.close();
  });

  it('a second put of an item changes its text and keeps its place', async () => {
    const store = new SqliteStore(':memory:');
    await store.put('s', item('u1', 'user', ''));
    await store.put('s', item('a1', 'assistant', 'Il est midi à Paris. Bonne journée.'));
    await store.put('s', item('u1', 'user', 'Quelle heure est-il ?'));
    await store.put('s', item('a1', 'assistant', 'Il est midi à Paris.'));
    expect(await store.history('s')).toEqual([
      item('u1', 'user', 'Quelle heure est-il ?'),
      item('a1', 'assistant', 'Il est midi à Paris.'),
    ]);
    await store.close();
  });

  it('history with a limit gives the last items, oldest first; delete removes one', async () => {
    const store = new SqliteStore(':memory:');
    for (let i = 0; i < 5; i++) await store.put('s', item(`i${i}`, i % 2 ? 'assistant' : 'user', `t${i}`));
    expect((await store.history('s', 2)).map((i) => i.id)).toEqual(['i3', 'i4']);
    await store.delete('s', 'i3');
    expect((await store.history('s', 2)).map((i) => i.id)).toEqual(['i2', 'i4']);
    await store.close();
  });

  it('what was saved is there after the store is closed and opened again', async () => {
    const path = tempDb();
    const first = new SqliteStore(path);
    await first.put('s', item('1', 'user', 'Allume la lumière', 42));
    await first.close();
    const second = new SqliteStore(path);
    expect(await second.history('s')).toEqual([item('1', 'user', 'Allume la lumière', 42)]);
    await second.close();
  });

  it('after close, calls fail with store_failed', async () => {
    const store = new SqliteStore(':memory:');
    await store.close();
    const error = await store.history('s').catch((e: unknown) => e);
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
});
