import type { ChatMessage } from '../engines/llm/types.js';
import type { ConversationStore, FallbackUsage } from '../store/types.js';
import { newId } from '../protocol/server-events.js';
import { newSessionId } from '../store/session-id.js';

/**
 * One HTTP exchange in a stored conversation: the history the LLM sees, and the saving of the
 * user's message (at once, so a failed answer loses nothing said) and of the answer.
 */
export class HttpConversation {
  private constructor(
    private readonly store: ConversationStore,
    private readonly owner: string,
    readonly sessionId: string,
    readonly history: ChatMessage[],
  ) {}

  /**
   * Opens `owner`'s conversation `sessionId` with its last `historyItems`, or a new one when no
   * id is given; an id the owner does not have (someone else's, or one the client made up) is
   * `conversation_not_found`, whatever `historyItems` is.
   */
  static async open(
    store: ConversationStore,
    owner: string,
    sessionId: string | undefined,
    historyItems: number,
  ): Promise<HttpConversation> {
    if (sessionId === undefined) return new HttpConversation(store, owner, newSessionId(), []);
    const items = await store.history(owner, sessionId, historyItems);
    return new HttpConversation(
      store,
      owner,
      sessionId,
      items.map((i) => ({ role: i.role, content: i.text })),
    );
  }

  /** Adds tokens a fallback upstream used for this conversation. */
  async addUsage(usage: FallbackUsage): Promise<void> {
    await this.store.addUsage(this.owner, this.sessionId, usage);
  }

  async save(role: 'user' | 'assistant', text: string): Promise<void> {
    if (text.trim() === '') return;
    await this.store.put(this.owner, this.sessionId, {
      id: newId('item'),
      role,
      text,
      createdAt: Date.now(),
    });
  }
}
