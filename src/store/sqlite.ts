import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { VoiceError } from '../errors.js';
import type { ConversationStore, StoredItem } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (session_id, item_id)
);
CREATE INDEX IF NOT EXISTS items_by_session ON items (session_id, seq);
`;

interface Row {
  item_id: string;
  role: StoredItem['role'];
  text: string;
  created_at: number;
}

/**
 * The embedded store: one SQLite file (better-sqlite3, WAL journal). Each write is its own
 * transaction, so what was saved survives a crash of the process; `:memory:` keeps nothing.
 */
export class SqliteStore implements ConversationStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(readonly path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new VoiceError(
        'store_unavailable',
        `cannot open the conversation store ${path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.statements = {
      all: this.db.prepare<[string], Row>(
        'SELECT item_id, role, text, created_at FROM items WHERE session_id = ? ORDER BY seq',
      ),
      last: this.db.prepare<[string, number], Row>(
        'SELECT * FROM (SELECT seq, item_id, role, text, created_at FROM items WHERE session_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
      ),
      put: this.db.prepare<[string, string, string, string, number]>(
        `INSERT INTO items (session_id, item_id, role, text, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (session_id, item_id) DO UPDATE SET text = excluded.text`,
      ),
      delete: this.db.prepare<[string, string]>('DELETE FROM items WHERE session_id = ? AND item_id = ?'),
    };
  }

  history(sessionId: string, limit?: number): Promise<StoredItem[]> {
    return this.run(() => {
      const rows =
        limit === undefined ? this.statements.all.all(sessionId) : this.statements.last.all(sessionId, limit);
      return rows.map((r) => ({ id: r.item_id, role: r.role, text: r.text, createdAt: r.created_at }));
    });
  }

  put(sessionId: string, item: StoredItem): Promise<void> {
    return this.run(() => {
      this.statements.put.run(sessionId, item.id, item.role, item.text, item.createdAt);
    });
  }

  delete(sessionId: string, itemId: string): Promise<void> {
    return this.run(() => {
      this.statements.delete.run(sessionId, itemId);
    });
  }

  close(): Promise<void> {
    return this.run(() => {
      if (!this.db.open) return;
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    });
  }

  private run<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(
        err instanceof VoiceError
          ? err
          : new VoiceError('store_failed', `conversation store: ${(err as Error).message}`, { cause: err }),
      );
    }
  }
}
