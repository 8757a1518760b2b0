import type { Config } from '../config.js';
import { silentLogger, type Logger } from '../log.js';
import type { Runtime } from '../runtime/runtime.js';
import { buildServer } from '../server.js';
import { SqliteStore } from '../store/sqlite.js';
import type { KnowledgeBase } from '../rag/types.js';
import type { ConversationStore } from '../store/types.js';

/**
 * The service on a free loopback port with a fresh in-memory store (or `options.store`), for tests and benchmarks: its
 * HTTP base (`http://127.0.0.1:PORT`; `https` with `server.tlsCert`) and the app to close.
 */
export async function listenOnLoopback<S extends ConversationStore = SqliteStore>(
  config: Config,
  /** Undefined: the engines are still loading. */
  runtime: Runtime | undefined,
  kb?: KnowledgeBase,
  options: { store?: S; logger?: Logger } = {},
): Promise<{ app: Awaited<ReturnType<typeof buildServer>>; base: string; store: S }> {
  const store = options.store ?? (new SqliteStore(':memory:') as unknown as S);
  const app = await buildServer({
    config,
    logger: options.logger ?? silentLogger,
    runtime: () => runtime,
    store,
    ...(kb ? { kb } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    store,
    base: `${config.server.tlsCert ? 'https' : 'http'}://127.0.0.1:${(app.server.address() as { port: number }).port}`,
  };
}
