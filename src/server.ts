import Fastify from 'fastify';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { VERSION } from './version.js';

export interface ServerDeps {
  config: Config;
  logger: Logger;
}

/** The HTTP and WebSocket app: routes and wiring only. */
export function buildServer({ logger }: ServerDeps) {
  const app = Fastify({ loggerInstance: logger });
  const startedAt = Date.now();
  app.get('/health', () => ({
    status: 'ok',
    version: VERSION,
    uptimeSec: Math.round((Date.now() - startedAt) / 1000),
  }));
  return app;
}
