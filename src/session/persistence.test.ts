import { describe, expect, it } from 'vitest';
import { SessionHarness } from '../testing/session-harness.js';
import { FakeLlm, FakeStt } from '../testing/fake-engines.js';
import { SqliteStore } from '../store/sqlite.js';
import type { StoredItem } from '../store/types.js';

/** The real embedded store, counting the writes that reach it. */
class CountingStore extends SqliteStore {
  puts = 0;
  deletes = 0;
  constructor() {
    super(':memory:');
  }
  override put(owner: string, sessionId: string, item: StoredItem) {
    this.puts++;
    return super.put(owner, sessionId, item);
  }
  override delete(owner: string, sessionId: string, itemId: string) {
    this.deletes++;
    return super.delete(owner, sessionId, itemId);
  }
}

const textItem = (text: string) => ({
  type: 'conversation.item.create',
  item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
});

describe('conversation persistence', () => {
  it('incrementalPersistence: each event writes only what it changed, not the whole conversation again', async () => {
    const store = new CountingStore();
    const h = await SessionHarness.create({
      store,
      config: { realtime: { maxMessagesPerSec: 100_000 } },
      stt: new FakeStt(() => ({ text: 'Quelle heure est-il ?' })),
      llm: new FakeLlm(() => ({ tokens: ['Il est midi.'] })),
    });
    for (let i = 0; i < 200; i++) await h.send(textItem(`note ${i}`));
    await h.persistence!.flush();
    expect(store.puts).toBe(200);
    // A spoken turn adds two items (the transcript, the answer): two more writes.
    await h.turn();
    await h.waitFor('response.done');
    await h.settled();
    await h.persistence!.flush();
    expect(store.puts).toBe(202);
    // Events that change nothing write nothing.
    for (let i = 0; i < 50; i++) await h.send({ type: 'input_audio_buffer.clear' });
    await h.persistence!.flush();
    expect(store.puts).toBe(202);
    const saved = await store.history('test', h.session.id);
    expect(saved).toHaveLength(202);
    expect(saved.at(-1)!.text).toBe('Il est midi.');
  });

  it('conversationCapEvictsTheOldest: past store.maxItems the oldest items are deleted, announced and removed from the store', async () => {
    const store = new CountingStore();
    const h = await SessionHarness.create({ store, config: { store: { maxItems: 5 } } });
    for (let i = 0; i < 8; i++) await h.send(textItem(`note ${i}`));
    expect(h.session.conversation.length).toBe(5);
    const deleted = h.of('conversation.item.deleted').map((e) => e.item_id);
    const created = h.of('conversation.item.created').map((e) => (e.item as { id: string }).id);
    expect(deleted).toEqual(created.slice(0, 3));
    await h.persistence!.flush();
    expect((await store.history('test', h.session.id)).map((i) => i.text)).toEqual([
      'note 3',
      'note 4',
      'note 5',
      'note 6',
      'note 7',
    ]);
  });

  it('conversationCharsCapEvictsTheOldest: past store.maxChars the oldest items go', async () => {
    const h = await SessionHarness.create({ config: { store: { maxChars: 1000 } } });
    for (let i = 0; i < 5; i++) await h.send(textItem('x'.repeat(300)));
    expect(h.session.conversation.length).toBe(3);
    expect(h.of('conversation.item.deleted')).toHaveLength(2);
  });

  it('itemTooLarge: an item over store.maxItemChars is refused with item_too_large and not kept', async () => {
    const h = await SessionHarness.create({ config: { store: { maxItemChars: 1000 } } });
    await h.send({ ...textItem('x'.repeat(1001)), event_id: 'evt_big' });
    const error = (await h.waitFor('error')).error as { code: string; event_id: string };
    expect(error).toMatchObject({ code: 'item_too_large', event_id: 'evt_big' });
    expect(h.session.conversation.length).toBe(0);
  });
});
