import type { FastifyInstance } from 'fastify';
import { runtimeOf, type RouteContext } from './context.js';

/** OpenAI's `GET /v1/models`: the LLM, the Whisper model and each voice, as loaded. */
export function modelRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/models', () => {
    const { engines, model } = runtimeOf(ctx);
    const created = Math.floor(ctx.startedAt / 1000);
    const ids = [model, `${engines.stt.info.engine}:${engines.stt.info.model}`, ...engines.voices.keys()];
    return {
      object: 'list',
      data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'voice-assistant' })),
    };
  });
}
