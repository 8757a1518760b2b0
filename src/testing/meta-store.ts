import { SqliteStore } from '../store/sqlite.js';
import type { ConversationMeta } from '../store/types.js';

/** The in-memory store, remembering which conversation each metadata write was for (calls have no id on the wire). */
export class MetaRecordingStore extends SqliteStore {
  readonly metas: { owner: string; sessionId: string; meta: ConversationMeta }[] = [];

  constructor() {
    super(':memory:');
  }

  override setMeta(owner: string, sessionId: string, meta: ConversationMeta): Promise<void> {
    this.metas.push({ owner, sessionId, meta });
    return super.setMeta(owner, sessionId, meta);
  }
}
