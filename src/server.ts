import { readFileSync } from 'node:fs';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { RealtimeRuntime } from './session/runtime.js';
import { attachSession, SessionRegistry } from './session/ws-handler.js';
import { VERSION } from './version.js';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  /** The engines of real-time sessions; sessions are refused (not-ready error) until it is set. */
  realtime?: () => RealtimeRuntime | undefined;
}

/** Paths of the real-time WebSocket: ours, and OpenAI's so Realtime clients work unchanged. */
export const REALTIME_PATHS = ['/ws/chat', '/v1/realtime'] as const;

/** The HTTP and WebSocket app: routes and wiring only. */
export function buildServer({ config, logger, realtime }: ServerDeps) {
  const { tlsCert, tlsKey } = config.server;
  const https =
    tlsCert && tlsKey ? { https: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } } : {};
  const app = Fastify({ loggerInstance: logger, ...https });
  const startedAt = Date.now();
  const registry = new SessionRegistry(config.realtime.maxSessions);
  app.get('/health', () => ({
    status: 'ok',
    version: VERSION,
    uptimeSec: Math.round((Date.now() - startedAt) / 1000),
    sessions: registry.sessions.size,
  }));
  // Frames above realtime.maxFrameBytes get an error event and the socket stays open; only
  // frames 16 times larger make ws close the connection (1009) to protect memory.
  void app.register(websocket, { options: { maxPayload: config.realtime.maxFrameBytes * 16 } });
  void app.register((scope, _options, done) => {
    for (const path of REALTIME_PATHS)
      scope.get(path, { websocket: true }, (socket, req) =>
        attachSession(socket, {
          runtime: realtime?.(),
          registry,
          config,
          logger,
          dialect: /realtime=v1/.test(String(req.headers['openai-beta'] ?? '')) ? 'beta' : 'ga',
        }),
      );
    done();
  });
  app.addHook('onClose', () => {
    for (const session of registry.sessions) session.end(1001, 'server shutting down');
  });
  return app;
}
