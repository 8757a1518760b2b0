import { readFileSync } from 'node:fs';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import { VoiceError } from './errors.js';
import { registerAuth, selectProtocol } from './http/auth.js';
import { Drain } from './http/drain.js';
import { registerErrorHandling } from './http/errors.js';
import type { Logger } from './log.js';
import { GpuMonitor } from './metrics/gpu.js';
import { Metrics } from './metrics/registry.js';
import { chatRoutes } from './routes/chat.js';
import { chatCompletionRoutes } from './routes/chat-completions.js';
import { webRoutes } from './routes/web.js';
import { ChatUpstream } from './fallback/chat-upstream.js';
import type { RouteContext } from './routes/context.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { realtimeRoutes } from './routes/realtime.js';
import { telephonyRoutes, TWILIO_PATHS } from './routes/telephony.js';
import { speechRoutes } from './routes/speech.js';
import { transcriptionRoutes } from './routes/transcriptions.js';
import { Readiness } from './runtime/readiness.js';
import type { Runtime } from './runtime/runtime.js';
import { SessionRegistry } from './routes/realtime-socket.js';
import type { ConversationStore } from './store/types.js';
import { sharedRateLimitStore } from './limits/rate-limit-store.js';
import { SharedLimits } from './limits/shared-limits.js';
import { Retrieval } from './rag/retrieval.js';
import type { KnowledgeBase } from './rag/types.js';
import { kbRoutes } from './routes/kb.js';
import { closeIdleConnections } from './http/idle-connections.js';

export { REALTIME_PATHS } from './routes/realtime.js';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  /** The engines once loaded and warmed up; routes answer `not_ready` (503) until then. */
  runtime: () => Runtime | undefined;
  /** Loading progress before that (shown by /ready). */
  readiness?: () => Readiness;
  store: ConversationStore;
  /** The knowledge base answers draw on (`rag.engine`); absent: answers have no passages. */
  kb?: KnowledgeBase | undefined;
  gpu?: GpuMonitor;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Graceful shutdown: refuse new work, let answers in progress finish up to
     * `server.shutdownDeadlineMs`, close real-time sessions (1001), then the server.
     */
    shutdown(): Promise<void>;
    metrics: Metrics;
  }
}

const checkingIntervalMs = (requestTimeoutMs: number) =>
  Math.min(30_000, Math.max(250, Math.round(requestTimeoutMs / 4)));

/** Health, readiness and metrics: never rate limited (load balancers and Prometheus poll them). */
const PROBE_PATHS = ['/health', '/ready', '/metrics'];

/** The HTTP and WebSocket app: hooks, limits and routes (one file per group under routes/). */
export async function buildServer({ config, logger, runtime, readiness, store, kb, gpu }: ServerDeps) {
  const { tlsCert, tlsKey } = config.server;
  // Node looks for requests past their time every 30 s by default: a 408 would come up to 30 s late.
  const checking = { connectionsCheckingInterval: checkingIntervalMs(config.http.requestTimeoutMs) };
  const https =
    tlsCert && tlsKey
      ? { https: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey), ...checking } }
      : {};
  const app = Fastify({
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- routes take the base logger type
    loggerInstance: logger as FastifyBaseLogger,
    // Request lines are logged below without the query string, which may carry a token.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutMs,
    http: checking,
    trustProxy: config.server.trustProxy.length > 0 ? config.server.trustProxy : false,
    ...https,
  });
  // Node cuts a slow request body at requestTimeout only while headersTimeout is not longer.
  app.server.headersTimeout = Math.min(60_000, config.http.requestTimeoutMs);
  closeIdleConnections(app.server, app.server.headersTimeout);
  const sessions = new SessionRegistry(
    config.realtime.maxSessions,
    config.auth.maxSessionsPerToken,
    config.fallback.realtime.maxSessions,
  );
  const drain = new Drain();
  const monitor = gpu ?? new GpuMonitor();
  const metrics = new Metrics({
    runtime,
    realtimeSessions: () => sessions.sessions.size,
    upstreamSessions: () => sessions.count('openai'),
    httpStreams: () => drain.active,
    gpu: monitor,
  });
  // Limits counted across instances (limits.redisUrl); without it each instance counts alone.
  const limits = config.limits.redisUrl
    ? new SharedLimits(config.limits.redisUrl, {
        failMode: config.limits.redisFailMode,
        timeoutMs: config.limits.redisTimeoutMs,
        logger,
        onError: (operation) => metrics.limitsError(operation),
      })
    : undefined;
  if (limits && !(await limits.connected(Math.max(1000, config.limits.redisTimeoutMs * 4))))
    logger.warn(
      { failMode: config.limits.redisFailMode },
      'shared limits: Redis did not answer at start; the fail mode applies until it does',
    );
  const fallback = new Readiness();
  const ctx: RouteContext = {
    config,
    loaded: runtime,
    pending: readiness ?? (() => fallback),
    store,
    limits,
    metrics,
    drain,
    gpu: monitor,
    sessions,
    startedAt: Date.now(),
    chatFallback: ChatUpstream.fromConfig(config, logger),
    rag: kb ? new Retrieval(kb, { k: config.rag.k }, logger, (o) => metrics.retrieval(o)) : undefined,
  };
  app.decorate('metrics', metrics);
  registerErrorHandling(app, (code) => metrics.error('http', code));
  // Registered before the auth hook: its own onRequest hook marks upgrade requests, so that a
  // refused upgrade (401, 429, 503) has its socket closed after the answer.
  // Frames above realtime.maxFrameBytes get an error event and the socket stays open; frames
  // over twice that make ws close the connection (1009) before buffering them whole.
  await app.register(websocket, {
    options: { maxPayload: config.realtime.maxFrameBytes * 2, handleProtocols: selectProtocol },
    // On close, sessions end with 1001 "going away" (the plugin's default closes without a code).
    preClose: (done) => {
      for (const session of sessions.sessions) session.end(1001, 'server shutting down');
      for (const client of app.websocketServer.clients) client.close(1001, 'server shutting down');
      app.websocketServer.close();
      done();
    },
  });
  // Twilio sends no bearer token: with its auth token set, its signature is checked instead.
  const signedPaths = config.telephony.enabled && config.telephony.twilioAuthToken ? TWILIO_PATHS : [];
  await registerAuth(app, config.auth, logger, config.http.authFailuresPerMinute, signedPaths);
  app.addHook('onRequest', (request, _reply, done) => {
    if (drain.draining && request.url.split('?')[0] !== '/health')
      done(new VoiceError('shutting_down', 'the server is shutting down and takes no new work'));
    else done();
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.request(request.method, route, reply.statusCode, seconds);
    request.log.info(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request done',
    );
  });
  if (config.http.requestsPerMinute > 0)
    await app.register(rateLimit, {
      max: config.http.requestsPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.principal?.key ?? request.ip,
      // Probes are not clients: a load balancer's health checks must neither use up nor hit the limit.
      allowList: (request) => PROBE_PATHS.includes(request.url.split('?')[0]!),
      ...(limits ? { store: sharedRateLimitStore(limits, 60_000) } : {}),
      errorResponseBuilder: (_request, context) =>
        new VoiceError(
          'rate_limited',
          `more than ${context.max} requests per minute; retry in ${context.after}`,
        ),
    });
  await app.register(multipart, {
    limits: { fileSize: config.http.uploadLimitBytes, files: 1, fields: 16, fieldSize: 64 * 1024 },
  });
  healthRoutes(app, ctx);
  chatRoutes(app, ctx);
  chatCompletionRoutes(app, ctx);
  webRoutes(app);
  speechRoutes(app, ctx);
  transcriptionRoutes(app, ctx);
  modelRoutes(app, ctx);
  kbRoutes(app, ctx, kb);
  realtimeRoutes(app, ctx, logger);
  await telephonyRoutes(app, ctx, logger);

  if (limits) app.addHook('onClose', () => limits.close());
  let closing: Promise<void> | undefined;
  app.decorate('shutdown', function shutdown() {
    closing ??= (async () => {
      const answers = Promise.all([...sessions.sessions].map((s) => s.idle()));
      const cut = await drain.shutdown(config.server.shutdownDeadlineMs, answers);
      logger.info({ cut, sessions: sessions.sessions.size }, 'shutting down: answers finished or cut');
      await app.close();
    })();
    return closing;
  });
  return app;
}
