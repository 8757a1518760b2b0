import type { ChatMessage } from '../engines/llm/types.js';
import type { ConversationStore } from '../store/types.js';
import { newId } from '../protocol/server-events.js';

/**
 * One HTTP exchange in a stored conversation: the history the LLM sees, and the saving of the
 * user's message (at once, so a failed answer loses nothing said) and of the answer.
 */
export class HttpConversation {
  private constructor(
    private readonly store: ConversationStore,
    readonly sessionId: string,
    readonly history: ChatMessage[],
  ) {}

  /** Opens the conversation `sessionId` (a new one when absent) with its last `historyItems`. */
  static async open(store: ConversationStore, sessionId: string | undefined, historyItems: number) {
    const id = sessionId ?? newId('sess');
    const items = sessionId && historyItems > 0 ? await store.history(id, historyItems) : [];
    return new HttpConversation(
      store,
      id,
      items.map((i) => ({ role: i.role, content: i.text })),
    );
  }

  async save(role: 'user' | 'assistant', text: string): Promise<void> {
    if (text.trim() === '') return;
    await this.store.put(this.sessionId, { id: newId('item'), role, text, createdAt: Date.now() });
  }
}
