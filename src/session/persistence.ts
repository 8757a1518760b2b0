import type { Logger } from '../log.js';
import type { ConversationStore, StoredItem } from '../store/types.js';
import type { ConversationItem } from './conversation.js';

/**
 * Keeps a real-time conversation in the store: every item with text is saved once final, saved
 * again when its text changes (a transcript arrives, a truncation), and removed when deleted.
 * Writes are cheap (an embedded database), so the whole conversation is compared after each event.
 */
export class ConversationSync {
  private readonly saved = new Map<string, string>();
  private readonly createdAt = new Map<string, number>();
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

  sync(items: readonly ConversationItem[]): void {
    const present = new Set<string>();
    for (const item of items) {
      present.add(item.id);
      if (item.status === 'in_progress' || item.text === '') continue;
      if (this.saved.get(item.id) === item.text) continue;
      this.saved.set(item.id, item.text);
      const createdAt = this.createdAt.get(item.id) ?? Date.now();
      this.createdAt.set(item.id, createdAt);
      this.write(() =>
        this.store.put(this.owner, this.sessionId, {
          id: item.id,
          role: item.role,
          text: item.text,
          createdAt,
        }),
      );
    }
    for (const id of [...this.saved.keys()])
      if (!present.has(id)) {
        this.saved.delete(id);
        this.write(() => this.store.delete(this.owner, this.sessionId, id));
      }
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
