import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkOrigin } from '../http/origin.js';
import { parseBody, sessionIdSchema } from '../http/validate.js';
import type { Logger } from '../log.js';
import { attachSession } from './realtime-socket.js';
import type { StoredItem } from '../store/types.js';
import type { SessionLease } from '../limits/shared-limits.js';
import type { RouteContext } from './context.js';

/** Paths of the real-time WebSocket: ours, and OpenAI's so Realtime clients work unchanged. */
export const REALTIME_PATHS = ['/ws/chat', '/v1/realtime'] as const;

const query = z.looseObject({ session_id: sessionIdSchema.optional() });

/**
 * The real-time WebSocket. `?session_id=` continues a stored conversation (HTTP or real-time);
 * the history is read before the upgrade, so a bad id or a failing store is an HTTP error.
 */
export function realtimeRoutes(app: FastifyInstance, ctx: RouteContext, logger: Logger): void {
  const history = new WeakMap<
    FastifyRequest,
    { sessionId?: string; items: StoredItem[]; lease: SessionLease | undefined; full: boolean }
  >();
  for (const path of REALTIME_PATHS)
    app.get(
      path,
      {
        websocket: true,
        preHandler: async (request) => {
          checkOrigin(request, ctx.config.server.allowedOrigins);
          const { session_id } = parseBody(query, request.query ?? {});
          const { owner } = request.principal;
          const items = session_id
            ? await ctx.store.history(owner, session_id, ctx.config.store.historyItems)
            : [];
          // Sessions per token across instances: counted in Redis before the upgrade.
          const lease = ctx.limits
            ? await ctx.limits.acquireSession(request.principal.key, ctx.config.auth.maxSessionsPerToken)
            : undefined;
          const full = ctx.limits !== undefined && lease === undefined;
          history.set(request, { ...(session_id ? { sessionId: session_id } : {}), items, lease, full });
        },
      },
      (socket, request) => {
        const stored = history.get(request);
        attachSession(socket, {
          runtime: ctx.loaded(),
          currentRuntime: ctx.loaded,
          registry: ctx.sessions,
          config: ctx.config,
          logger,
          dialect: /realtime=v1/.test(String(request.headers['openai-beta'] ?? '')) ? 'beta' : 'ga',
          principalKey: request.principal.key,
          owner: request.principal.owner,
          expiresAt: request.principal.expiresAt,
          sessionId: stored?.sessionId,
          history: stored?.items,
          lease: stored?.lease,
          ...(stored?.full
            ? {
                refused: {
                  code: 'session_limit_reached' as const,
                  message: `this token (or address) already has ${ctx.config.auth.maxSessionsPerToken} open sessions on this service`,
                },
              }
            : {}),
          store: ctx.store,
          metrics: ctx.metrics,
          rag: ctx.rag,
        });
      },
    );
}
