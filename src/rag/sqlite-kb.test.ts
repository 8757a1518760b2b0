import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKING } from './chunker.js';
import { parseDocument } from './formats.js';
import { SqliteKnowledgeBase } from './sqlite-kb.js';

const GUIDE = readFileSync(new URL('../../test/fixtures/kb/residence-les-tilleuls.md', import.meta.url));
const options = {
  maxBytes: 1 << 20,
  chunking: { ...DEFAULT_CHUNKING, targetWords: 30, maxWords: 60, overlapWords: 0 },
};
let kb: SqliteKnowledgeBase;
afterEach(() => kb?.close());

describe('SqliteKnowledgeBase', () => {
  it('finds the passage that answers a French question, whatever the word forms', async () => {
    kb = new SqliteKnowledgeBase(':memory:');
    await kb.add([await parseDocument(GUIDE, 'docs/residence-les-tilleuls.md', options)]);
    const top = async (q: string) => (await kb.search(q, { k: 1 }))[0]!;
    expect((await top('Quel est le code du portail ?')).text).toContain('4821');
    expect((await top('Quand est-ce que les poubelles de recyclage sont ramassées ?')).text).toContain(
      'mercredi',
    );
    expect((await top('Combien coûte un séchage à la laverie ?')).text).toContain('2 euros');
    const gardien = await top("Comment s'appelle le gardien ?");
    expect(gardien.text).toContain('Marcel Dubreuil');
    expect(gardien).toMatchObject({
      source: 'residence-les-tilleuls.md',
      documentId: expect.stringMatching(/^doc_/) as string,
    });
    expect(gardien.chunkId).toMatch(/^doc_[0-9a-f]{16}#\d+$/);
    expect(await kb.search('le la les de')).toEqual([]);
    expect(await kb.search('astrophysique quantique')).toEqual([]);
  });

  it('adding a file of the same name replaces its passages; remove forgets it; list shows what is held', async () => {
    kb = new SqliteKnowledgeBase(':memory:');
    const first = await parseDocument(GUIDE, 'guide.md', options);
    await kb.add([first]);
    const changed = await parseDocument(
      Buffer.from('# Accès\n\nLe code du portail est désormais 7302.'),
      'guide.md',
      options,
    );
    expect(changed.id).toBe(first.id);
    await kb.add([changed]);
    expect(kb.chunkCount).toBe(1);
    expect((await kb.search('code du portail'))[0]!.text).toContain('7302');
    expect(await kb.list()).toMatchObject([
      { id: first.id, source: 'guide.md', chunks: 1, bytes: changed.bytes },
    ]);
    expect(await kb.remove(first.id)).toBe(true);
    expect(await kb.remove(first.id)).toBe(false);
    expect(await kb.search('code du portail')).toEqual([]);
    expect(kb.chunkCount).toBe(0);
  });

  it('an add that fails part-way leaves nothing of it', async () => {
    kb = new SqliteKnowledgeBase(':memory:');
    const good = await parseDocument(GUIDE, 'guide.md', options);
    const bad = {
      ...good,
      id: 'doc_bad',
      source: 'bad.md',
      chunks: [{ heading: '', text: null as unknown as string }],
    };
    await expect(kb.add([good, bad])).rejects.toThrow();
    expect(await kb.list()).toEqual([]);
    expect(kb.chunkCount).toBe(0);
  });

  it('a database file is searched in a worker thread, with the same results as in-process', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/kb-`);
    const inProcess = new SqliteKnowledgeBase(`${dir}/voice.db`, 'fr', { searchInWorker: false });
    try {
      kb = new SqliteKnowledgeBase(`${dir}/voice.db`);
      await kb.add([await parseDocument(GUIDE, 'guide.md', options)]);
      for (const q of ['code du portail', 'laverie séchage', 'gardien', 'rien du tout'])
        expect(await kb.search(q, { k: 3 })).toEqual(await inProcess.search(q, { k: 3 }));
      const aborted = new AbortController();
      const pending = kb.search('code du portail', { signal: aborted.signal });
      aborted.abort();
      await expect(pending).rejects.toMatchObject({ code: 'aborted' });
      expect((await kb.search('code du portail'))[0]!.text).toContain('4821');
    } finally {
      await inProcess.close();
      await kb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the knowledge base across a reopen (the service database file)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/kb-`);
    try {
      kb = new SqliteKnowledgeBase(`${dir}/voice.db`);
      await kb.add([await parseDocument(GUIDE, 'guide.md', options)]);
      await kb.close();
      kb = new SqliteKnowledgeBase(`${dir}/voice.db`);
      expect((await kb.search('code du portail'))[0]!.text).toContain('4821');
    } finally {
      await kb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
