import { createHash, randomBytes } from 'node:crypto';

/**
 * A new conversation id. Without auth, knowing it is what lets a caller continue the
 * conversation, so it holds 128 random bits and only the server makes one.
 */
export function newSessionId(): string {
  return `sess_${randomBytes(16).toString('hex')}`;
}

/** What logs show of a session id: a short hash that ties log lines together, not the id itself. */
export function sessionTag(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}
