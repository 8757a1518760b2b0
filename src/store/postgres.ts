import pg from 'pg';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import { MIGRATION_LOCK, MIGRATIONS } from './postgres-schema.js';
import type { ConversationLimits } from './sqlite.js';
import type { ConversationMeta, ConversationStore, FallbackUsage, StoreStatus, StoredItem } from './types.js';

export interface PostgresOptions {
  limits: ConversationLimits;
  /** Connections this instance opens at most. */
  maxConnections: number;
  /** Longest wait for a connection (pool full or server unreachable). */
  connectTimeoutMs: number;
  /** Longest a query may run, on the server (statement_timeout) and on the client. */
  queryTimeoutMs: number;
  logger: Logger;
}

interface Row {
  item_id: string;
  role: StoredItem['role'];
  text: string;
  created_at: string;
}

const notFound = () =>
  new VoiceError('conversation_not_found', 'no conversation with this session_id belongs to this caller');

/** Query errors that mean the server could not be reached or went away (SQLSTATE class 08, 57P0x). */
function unreachable(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return (
    code.startsWith('08') ||
    code.startsWith('57P0') ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(code) ||
    /timeout|terminat|Connection/i.test((err as Error).message ?? '')
  );
}

/**
 * The server store: conversations in PostgreSQL, shared by every instance of the service, so a
 * session resumed on another instance finds its history. Migrations run on first use, under an
 * advisory lock so that instances starting at once on an empty database take turns. An
 * unreachable server fails calls with `store_unavailable` and `/ready` with 503; the pool
 * reconnects by itself when it returns.
 */
export class PostgresStore implements ConversationStore {
  private readonly pool: pg.Pool;
  private migrated: Promise<void> | undefined;
  private closed = false;

  constructor(
    url: string,
    private readonly options: PostgresOptions,
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections,
      connectionTimeoutMillis: options.connectTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      statement_timeout: options.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'voice-assistant',
    });
    // An idle connection the server drops (a restart) is an event, not a crash of the process.
    this.pool.on('error', (err) =>
      options.logger.warn({ err: err.message }, 'conversation store: connection lost'),
    );
  }

  /** Applies the migrations this database lacks; at most once at a time, retried after a failure. */
  migrate(): Promise<void> {
    this.migrated ??= this.runMigrations().catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async runMigrations(): Promise<void> {
    const { client, release } = await this.checkout();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS voice_schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM voice_schema_migrations',
      );
      const current = rows[0]?.v ?? 0;
      const latest = MIGRATIONS.at(-1)!.version;
      if (current > latest)
        throw new Error(`the database has schema version ${current}; this server reads up to ${latest}`);
      for (const m of MIGRATIONS.filter((m) => m.version > current)) {
        await client.query(m.sql);
        await client.query('INSERT INTO voice_schema_migrations (version) VALUES ($1)', [m.version]);
      }
      await client.query('COMMIT');
      if (current < latest)
        this.options.logger.info({ from: current, to: latest }, 'conversation store: schema migrated');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      release();
    }
  }

  async status(): Promise<StoreStatus> {
    try {
      await this.run(async (client) => {
        await client.query('SELECT 1');
      });
      return { engine: 'postgres', state: 'ok' };
    } catch (err) {
      return { engine: 'postgres', state: 'unavailable', error: (err as Error).message };
    }
  }

  history(owner: string, sessionId: string, limit?: number): Promise<StoredItem[]> {
    return this.run(async (client) => {
      await this.checkOwner(client, owner, sessionId);
      const { rows } =
        limit === undefined
          ? await client.query<Row>(
              'SELECT item_id, role, text, created_at FROM items WHERE session_id = $1 ORDER BY seq',
              [sessionId],
            )
          : await client.query<Row>(
              `SELECT item_id, role, text, created_at FROM
                 (SELECT * FROM items WHERE session_id = $1 ORDER BY seq DESC LIMIT $2) last ORDER BY seq`,
              [sessionId, limit],
            );
      return rows.map((r) => ({
        id: r.item_id,
        role: r.role,
        text: r.text,
        createdAt: Number(r.created_at),
      }));
    });
  }

  put(owner: string, sessionId: string, item: StoredItem): Promise<void> {
    return this.transaction(async (client) => {
      await this.create(client, owner, sessionId, item.createdAt);
      await client.query(
        `INSERT INTO items (session_id, item_id, role, text, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (session_id, item_id) DO UPDATE SET text = excluded.text`,
        [sessionId, item.id, item.role, item.text, item.createdAt],
      );
      await client.query(
        `DELETE FROM items WHERE session_id = $1 AND seq <=
           (SELECT seq FROM items WHERE session_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)`,
        [sessionId, this.options.limits.maxItems],
      );
      await client.query(
        `DELETE FROM items WHERE seq IN (
           SELECT seq FROM (
             SELECT seq, SUM(length(text)) OVER (ORDER BY seq DESC) AS newer, ROW_NUMBER() OVER (ORDER BY seq DESC) AS n
             FROM items WHERE session_id = $1) sized
           WHERE newer > $2 AND n > 1)`,
        [sessionId, this.options.limits.maxChars],
      );
    });
  }

  delete(owner: string, sessionId: string, itemId: string): Promise<void> {
    return this.run(async (client) => {
      await this.checkOwner(client, owner, sessionId);
      await client.query('DELETE FROM items WHERE session_id = $1 AND item_id = $2', [sessionId, itemId]);
    });
  }

  addUsage(owner: string, sessionId: string, usage: FallbackUsage): Promise<void> {
    return this.transaction(async (client) => {
      await this.create(client, owner, sessionId, Date.now());
      await client.query(
        'UPDATE conversations SET fallback_input_tokens = fallback_input_tokens + $1, fallback_output_tokens = fallback_output_tokens + $2 WHERE id = $3',
        [usage.inputTokens, usage.outputTokens, sessionId],
      );
    });
  }

  usage(owner: string, sessionId: string): Promise<FallbackUsage> {
    return this.run(async (client) => {
      await this.checkOwner(client, owner, sessionId);
      const { rows } = await client.query<{ input: string; output: string }>(
        'SELECT fallback_input_tokens AS input, fallback_output_tokens AS output FROM conversations WHERE id = $1',
        [sessionId],
      );
      return { inputTokens: Number(rows[0]!.input), outputTokens: Number(rows[0]!.output) };
    });
  }

  setMeta(owner: string, sessionId: string, meta: ConversationMeta): Promise<void> {
    return this.transaction(async (client) => {
      await this.create(client, owner, sessionId, Date.now());
      await client.query('UPDATE conversations SET meta = $1 WHERE id = $2', [
        JSON.stringify(meta),
        sessionId,
      ]);
    });
  }

  meta(owner: string, sessionId: string): Promise<ConversationMeta> {
    return this.run(async (client) => {
      await this.checkOwner(client, owner, sessionId);
      const { rows } = await client.query<{ meta: ConversationMeta }>(
        'SELECT meta FROM conversations WHERE id = $1',
        [sessionId],
      );
      return rows[0]!.meta;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Creates the conversation if new, and locks its row for the transaction: the owner's or none. */
  private async create(client: pg.PoolClient, owner: string, sessionId: string, createdAt: number) {
    await client.query(
      'INSERT INTO conversations (id, owner, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [sessionId, owner, createdAt],
    );
    await this.checkOwner(client, owner, sessionId, true);
  }

  private async checkOwner(client: pg.PoolClient, owner: string, sessionId: string, lock = false) {
    const { rows } = await client.query<{ owner: string }>(
      `SELECT owner FROM conversations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [sessionId],
    );
    if (rows[0]?.owner !== owner || owner === '') throw notFound();
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.run(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * A pooled connection: one the server drops while it is checked out (between two queries of a
   * transaction) reports it on the client, where nothing else listens: logged, not a crash.
   */
  private async checkout(): Promise<{ client: pg.PoolClient; release: (err?: Error) => void }> {
    const client = await this.pool.connect();
    const lost = (err: Error) =>
      this.options.logger.warn({ err: err.message }, 'conversation store: connection lost mid-call');
    client.on('error', lost);
    return {
      client,
      release: (err) => {
        client.off('error', lost);
        client.release(err);
      },
    };
  }

  private async run<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new VoiceError('store_failed', 'conversation store: the store is closed');
    let checkedOut: { client: pg.PoolClient; release: (err?: Error) => void } | undefined;
    try {
      await this.migrate();
      checkedOut = await this.checkout();
      return await work(checkedOut.client);
    } catch (err) {
      if (err instanceof VoiceError) throw err;
      // A connection that failed mid-query is not given back to the pool.
      checkedOut?.release(err as Error);
      checkedOut = undefined;
      throw unreachable(err)
        ? new VoiceError('store_unavailable', `conversation store unreachable: ${(err as Error).message}`, {
            cause: err,
          })
        : new VoiceError('store_failed', `conversation store: ${(err as Error).message}`, { cause: err });
    } finally {
      checkedOut?.release();
    }
  }
}
