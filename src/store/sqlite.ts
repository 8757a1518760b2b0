import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { VoiceError } from '../errors.js';
import type { ConversationMeta, ConversationStore, FallbackUsage, StoreStatus, StoredItem } from './types.js';

/**
 * The schema of `PRAGMA user_version` 3: conversations with an owner, the tokens a fallback
 * upstream used for them (version 1 had none) and their metadata as JSON (a phone call's ids and
 * numbers; version 2 had none), and their items.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  fallback_input_tokens INTEGER NOT NULL DEFAULT 0,
  fallback_output_tokens INTEGER NOT NULL DEFAULT 0,
  meta TEXT NOT NULL DEFAULT '{}'
);
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
const VERSION = 3;
/** The owner of conversations saved before owners existed: no caller has it. */
export const NO_OWNER = '';

interface Row {
  item_id: string;
  role: StoredItem['role'];
  text: string;
  created_at: number;
}

const notFound = () =>
  new VoiceError('conversation_not_found', 'no conversation with this session_id belongs to this caller');

/** What one stored conversation keeps at most: past either, its oldest items are deleted. */
export interface ConversationLimits {
  maxItems: number;
  /** Characters of text over all its items (the newest item is always kept). */
  maxChars: number;
}

const UNLIMITED: ConversationLimits = {
  maxItems: Number.MAX_SAFE_INTEGER,
  maxChars: Number.MAX_SAFE_INTEGER,
};

/**
 * The embedded store: one SQLite file (better-sqlite3, WAL journal). Each write is its own
 * transaction, so what was saved survives a crash of the process; `:memory:` keeps nothing.
 * Each put trims its conversation to `limits`, so a conversation cannot fill the disk.
 */
export class SqliteStore implements ConversationStore {
  private readonly db: Database.Database;
  private readonly statements;
  /** Conversations of a store written before owners existed, kept but reachable by no one. */
  readonly unowned: number;
  private readonly putTransaction: (owner: string, sessionId: string, item: StoredItem) => void;

  constructor(
    readonly path: string,
    readonly limits: ConversationLimits = UNLIMITED,
  ) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.unowned = this.migrate();
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
      owner: this.db.prepare<[string], { owner: string }>('SELECT owner FROM conversations WHERE id = ?'),
      create: this.db.prepare<[string, string, number]>(
        'INSERT INTO conversations (id, owner, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
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
      addUsage: this.db.prepare<[number, number, string]>(
        'UPDATE conversations SET fallback_input_tokens = fallback_input_tokens + ?, fallback_output_tokens = fallback_output_tokens + ? WHERE id = ?',
      ),
      usage: this.db.prepare<[string], { input: number; output: number }>(
        'SELECT fallback_input_tokens AS input, fallback_output_tokens AS output FROM conversations WHERE id = ?',
      ),
      setMeta: this.db.prepare<[string, string]>('UPDATE conversations SET meta = ? WHERE id = ?'),
      meta: this.db.prepare<[string], { meta: string }>('SELECT meta FROM conversations WHERE id = ?'),
      trimItems: this.db.prepare<[string, string, number]>(
        `DELETE FROM items WHERE session_id = ? AND seq <=
           (SELECT seq FROM items WHERE session_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
      ),
      trimChars: this.db.prepare<[string, number]>(
        `DELETE FROM items WHERE seq IN (
           SELECT seq FROM (
             SELECT seq, SUM(length(text)) OVER (ORDER BY seq DESC) AS newer, ROW_NUMBER() OVER (ORDER BY seq DESC) AS n
             FROM items WHERE session_id = ?)
           WHERE newer > ? AND n > 1)`,
      ),
    };
    this.putTransaction = this.db.transaction((owner: string, sessionId: string, item: StoredItem) => {
      this.statements.create.run(sessionId, owner, item.createdAt);
      this.checkOwner(owner, sessionId);
      this.statements.put.run(sessionId, item.id, item.role, item.text, item.createdAt);
      this.statements.trimItems.run(sessionId, sessionId, this.limits.maxItems);
      this.statements.trimChars.run(sessionId, this.limits.maxChars);
    });
  }

  history(owner: string, sessionId: string, limit?: number): Promise<StoredItem[]> {
    return this.run(() => {
      this.checkOwner(owner, sessionId);
      const rows =
        limit === undefined ? this.statements.all.all(sessionId) : this.statements.last.all(sessionId, limit);
      return rows.map((r) => ({ id: r.item_id, role: r.role, text: r.text, createdAt: r.created_at }));
    });
  }

  put(owner: string, sessionId: string, item: StoredItem): Promise<void> {
    return this.run(() => this.putTransaction(owner, sessionId, item));
  }

  addUsage(owner: string, sessionId: string, usage: FallbackUsage): Promise<void> {
    return this.run(() =>
      this.db.transaction(() => {
        this.statements.create.run(sessionId, owner, Date.now());
        this.checkOwner(owner, sessionId);
        this.statements.addUsage.run(usage.inputTokens, usage.outputTokens, sessionId);
      })(),
    );
  }

  usage(owner: string, sessionId: string): Promise<FallbackUsage> {
    return this.run(() => {
      this.checkOwner(owner, sessionId);
      const row = this.statements.usage.get(sessionId)!;
      return { inputTokens: row.input, outputTokens: row.output };
    });
  }

  setMeta(owner: string, sessionId: string, meta: ConversationMeta): Promise<void> {
    return this.run(() =>
      this.db.transaction(() => {
        this.statements.create.run(sessionId, owner, Date.now());
        this.checkOwner(owner, sessionId);
        this.statements.setMeta.run(JSON.stringify(meta), sessionId);
      })(),
    );
  }

  meta(owner: string, sessionId: string): Promise<ConversationMeta> {
    return this.run(() => {
      this.checkOwner(owner, sessionId);
      return JSON.parse(this.statements.meta.get(sessionId)!.meta) as ConversationMeta;
    });
  }

  delete(owner: string, sessionId: string, itemId: string): Promise<void> {
    return this.run(() => {
      this.checkOwner(owner, sessionId);
      this.statements.delete.run(sessionId, itemId);
    });
  }

  status(): Promise<StoreStatus> {
    return Promise.resolve(
      this.db.open
        ? { engine: 'sqlite', state: 'ok' }
        : { engine: 'sqlite', state: 'unavailable', error: 'the store is closed' },
    );
  }

  close(): Promise<void> {
    return this.run(() => {
      if (!this.db.open) return;
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    });
  }

  private checkOwner(owner: string, sessionId: string) {
    const row = this.statements.owner.get(sessionId);
    if (!row || row.owner === NO_OWNER || row.owner !== owner) throw notFound();
  }

  /** Brings an older file to this schema; returns how many conversations it found without owner. */
  private migrate(): number {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > VERSION)
      throw new Error(`the file has schema version ${version}; this server reads up to ${VERSION}`);
    if (version === VERSION) return 0;
    return this.db.transaction(() => {
      if (version === 1)
        for (const column of ['fallback_input_tokens', 'fallback_output_tokens'])
          this.db.exec(`ALTER TABLE conversations ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
      if (version === 1 || version === 2)
        this.db.exec("ALTER TABLE conversations ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'");
      this.db.exec(SCHEMA);
      const legacy = this.db
        .prepare(
          `INSERT OR IGNORE INTO conversations (id, owner, created_at)
           SELECT session_id, ?, MIN(created_at) FROM items GROUP BY session_id`,
        )
        .run(NO_OWNER).changes;
      this.db.pragma(`user_version = ${VERSION}`);
      return legacy;
    })();
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
