/** One message of a stored conversation. */
export interface StoredItem {
  /** Unique within its conversation: a real-time item id, or one made for an HTTP message. */
  id: string;
  role: 'system' | 'user' | 'assistant';
  text: string;
  /** Epoch milliseconds of its first save. */
  createdAt: number;
}

/**
 * Conversation history by session id, shared by HTTP and WebSocket sessions and kept across
 * restarts. Asynchronous so that a server database can replace the embedded one.
 */
export interface ConversationStore {
  /** The conversation's items, oldest first (the last `limit` when given); [] when unknown. */
  history(sessionId: string, limit?: number): Promise<StoredItem[]>;
  /** Saves an item, or the new text of an item saved before (a transcript, a truncation). */
  put(sessionId: string, item: StoredItem): Promise<void>;
  delete(sessionId: string, itemId: string): Promise<void>;
  /** Writes everything out and releases the database; later calls fail. */
  close(): Promise<void>;
}
