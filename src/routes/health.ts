import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { VERSION } from '../version.js';

const INSTANCE = `${hostname()}:${process.pid}`;
import type { RouteContext } from './context.js';

/**
 * `GET /health`: the process answers (liveness). `GET /ready`: 200 once every engine is loaded and
 * warmed up, else 503, with per engine its model, device, load and warm-up times and last error,
 * the conversation store (503 when its database does not answer), and the GPUs (`gpu: null` with
 * the reason when there is none). `GET /metrics`: Prometheus text.
 */
export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/health', () => ({
    status: ctx.drain.draining ? 'shutting_down' : 'ok',
    version: VERSION,
    // Which instance answered, behind a load balancer.
    instance: INSTANCE,
    uptimeSec: Math.round((Date.now() - ctx.startedAt) / 1000),
    sessions: ctx.sessions.sessions.size,
  }));

  app.get('/ready', async (_request, reply) => {
    const runtime = ctx.loaded();
    const readiness = runtime?.readiness;
    const [telemetry, store, limits] = await Promise.all([
      ctx.gpu.read(),
      ctx.store.status(),
      ctx.limits?.status(),
    ]);
    // Redis down matters only when its fail mode refuses work; failing open, the instance serves on.
    const limitsRefuse = limits?.state === 'unavailable' && limits.failMode === 'closed';
    const ready = !!readiness?.ready && !ctx.drain.draining && store.state === 'ok' && !limitsRefuse;
    return reply.code(ready ? 200 : 503).send({
      ready,
      ...(ctx.drain.draining
        ? { reason: 'shutting down' }
        : store.state !== 'ok'
          ? { reason: `database unavailable: ${store.error ?? store.state}` }
          : limitsRefuse
            ? { reason: `shared limits unavailable (Redis), fail mode closed: ${limits.error ?? ''}` }
            : {}),
      readyAfterMs: readiness?.readyAfterMs ?? null,
      engines: readiness?.engines ?? ctx.pending().engines,
      gpu: telemetry.gpus,
      ...(telemetry.gpus === null ? { gpuReason: telemetry.reason } : {}),
      store,
      ...(limits ? { limits } : {}),
      ...(runtime?.llmPool ? { llmPool: runtime.llmPool.stats() } : {}),
      // Optional: a failing knowledge base never makes the service unready (answers go on without it).
      rag: ctx.rag?.status() ?? { engine: 'off', state: 'off' },
    });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
