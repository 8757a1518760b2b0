import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { ConversationStore } from './types.js';

/**
 * The conversation store the config names: PostgreSQL when `store.url` is set (shared by every
 * instance), else the embedded SQLite file. A PostgreSQL server that is down at start does not
 * stop the service: `/ready` says so and the schema is migrated once it answers.
 */
export async function openStore(config: Config, logger: Logger): Promise<ConversationStore> {
  const limits = { maxItems: config.store.maxItems, maxChars: config.store.maxChars };
  if (config.store.url) {
    const store = new PostgresStore(config.store.url, {
      limits,
      maxConnections: config.store.maxConnections,
      connectTimeoutMs: config.store.connectTimeoutMs,
      queryTimeoutMs: config.store.queryTimeoutMs,
      logger,
    });
    await store
      .migrate()
      .catch((err: Error) =>
        logger.error(
          { err: err.message },
          'conversation store: PostgreSQL unreachable at start; not ready until it answers',
        ),
      );
    return store;
  }
  const store = new SqliteStore(config.store.path, limits);
  if (store.unowned > 0)
    logger.warn(
      { conversations: store.unowned },
      'conversations saved before they had owners are kept in the store but no caller can open them',
    );
  return store;
}
