import type { Logger } from '../log.js';
import type { ConversationMeta, ConversationStore, FallbackUsage, StoredItem } from '../store/types.js';
import type { ConversationChanges, ConversationItem } from './conversation.js';

/**
 * Keeps a real-time conversation in the store: every item with text is saved once final, saved
 * again when its text changes (a transcript arrives, a truncation), and removed when deleted or
 * evicted. Only the items the conversation reports changed are looked at.
 */
export class ConversationSync {
  private readonly saved = new Map<string, string>();
  private readonly createdAt = new Map<string, number>();
  /** Changed items not saved yet because they were still being written. */
  private readonly pending = new Map<string, ConversationItem>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ConversationStore,
    private readonly owner: string,
    readonly sessionId: string,
    /** Items of an earlier HTTP or real-time conversation this session continues. */
    readonly loaded: StoredItem[],
    private readonly log: Logger,
  ) {
    for (const item of loaded) this.saved.set(item.id, item.text);
  }

  /** Writes `changes`; items still being written stay in `pending` until they are final. */
  sync(changes: ConversationChanges): void {
    for (const id of changes.removed) {
      this.pending.delete(id);
      this.createdAt.delete(id);
      if (this.saved.delete(id)) this.write(() => this.store.delete(this.owner, this.sessionId, id));
    }
    // In conversation order (the store keeps items in the order of their first save).
    for (const item of changes.changed) {
      this.pending.delete(item.id);
      this.save(item);
    }
    for (const item of [...this.pending.values()]) {
      this.pending.delete(item.id);
      this.save(item);
    }
  }

  private save(item: ConversationItem) {
    const { id } = item;
    if (item.status === 'in_progress') return void this.pending.set(id, item);
    if (item.text === '' || this.saved.get(id) === item.text) return;
    this.saved.set(id, item.text);
    const createdAt = this.createdAt.get(id) ?? Date.now();
    this.createdAt.set(id, createdAt);
    this.write(() =>
      this.store.put(this.owner, this.sessionId, { id, role: item.role, text: item.text, createdAt }),
    );
  }

  /** Adds tokens a fallback upstream used for this conversation (after the items written so far). */
  addUsage(usage: FallbackUsage): void {
    if (usage.inputTokens === 0 && usage.outputTokens === 0) return;
    this.write(() => this.store.addUsage(this.owner, this.sessionId, usage));
  }

  /** Stores the conversation's metadata (after the items written so far). */
  setMeta(meta: ConversationMeta): void {
    this.write(() => this.store.setMeta(this.owner, this.sessionId, meta));
  }

  /** Settles when every write so far has ended. */
  flush(): Promise<void> {
    return this.writes;
  }

  private write(work: () => Promise<void>) {
    this.writes = this.writes
      .then(work)
      .catch((err: Error) => this.log.error({ err: err.message }, 'saving the conversation failed'));
  }
}
