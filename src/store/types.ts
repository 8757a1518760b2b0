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
 * restarts. Every conversation has an owner (see `Principal.owner`): a caller who does not own it
 * gets `conversation_not_found`, exactly as for an id that does not exist, so ids cannot be probed.
 * Asynchronous so that a server database can replace the embedded one.
 */
export interface ConversationStore {
  /** The owner's conversation, oldest first (the last `limit` items when given). */
  history(owner: string, sessionId: string, limit?: number): Promise<StoredItem[]>;
  /**
   * Saves an item, or the new text of an item saved before (a transcript, a truncation). The
   * first save creates the conversation, owned by `owner`.
   */
  put(owner: string, sessionId: string, item: StoredItem): Promise<void>;
  delete(owner: string, sessionId: string, itemId: string): Promise<void>;
  /** Adds tokens a fallback upstream used for the conversation (what it cost); creates it if new. */
  addUsage(owner: string, sessionId: string, usage: FallbackUsage): Promise<void>;
  /** The tokens fallback upstreams used for the owner's conversation so far. */
  usage(owner: string, sessionId: string): Promise<FallbackUsage>;
  /** Sets the conversation's metadata (a phone call's ids and numbers); creates it if new. */
  setMeta(owner: string, sessionId: string, meta: ConversationMeta): Promise<void>;
  /** The owner's conversation's metadata ({} when none was set). */
  meta(owner: string, sessionId: string): Promise<ConversationMeta>;
  /** Whether the database answers now (`/ready` says so; a server database can go away). */
  status(): Promise<StoreStatus>;
  /** Writes everything out and releases the database; later calls fail. */
  close(): Promise<void>;
}

export interface FallbackUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What is known of a conversation beside its items: for a phone call, its carrier's ids and numbers. */
export type ConversationMeta = Record<string, string>;

/** `/ready`'s view of the store: a server database that does not answer makes the instance unready. */
export interface StoreStatus {
  engine: 'sqlite' | 'postgres';
  state: 'ok' | 'unavailable';
  error?: string;
}
