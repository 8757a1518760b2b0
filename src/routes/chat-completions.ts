import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ChatMessage } from '../engines/llm/types.js';
import { admitBatch } from '../engines/types.js';
import { VoiceError } from '../errors.js';
import { requestWork } from '../http/request-work.js';
import { writeInTurn } from '../http/stream-write.js';
import { parseBody } from '../http/validate.js';
import { streamAnswer, type AnswerEvent } from '../pipeline/answer-stream.js';
import { newId } from '../protocol/server-events.js';
import { runtimeOf, type RouteContext } from './context.js';
import { streamError } from './turn.js';

const textPart = z.looseObject({ type: z.string(), text: z.string().max(100_000).optional() });
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string().max(100_000), z.array(textPart).max(64)]).nullable(),
});
const body = z.looseObject({
  model: z.string().max(200).optional(),
  messages: z.array(message).min(1).max(256),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().min(1).max(32768).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).max(32768).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
});

/**
 * OpenAI's `POST /v1/chat/completions` on the local LLM (text only, stateless: nothing is stored),
 * as JSON or streamed chunks (`stream: true`, usage with `stream_options.include_usage`). OpenAI
 * clients use it unchanged, and another instance can use this one as its chat fallback.
 */
export function chatCompletionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const b = parseBody(body, request.body);
    const messages = b.messages.map((m): ChatMessage => ({
      role: m.role === 'developer' ? 'system' : m.role,
      content:
        typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join(''),
    }));
    const chars = messages.reduce((n, m) => n + m.content.length, 0);
    if (chars > ctx.config.store.maxChars)
      throw new VoiceError(
        'invalid_request',
        `the messages hold ${chars} characters; the limit is ${ctx.config.store.maxChars}`,
      );
    const runtime = runtimeOf(ctx);
    admitBatch(runtime.engines.llm);
    const { signal, end } = requestWork(ctx.drain, reply);
    const rt = ctx.config.realtime;
    const answer = streamAnswer({
      llm: runtime.engines.llm,
      messages,
      signal,
      maxTokens: b.max_completion_tokens ?? b.max_tokens ?? ctx.config.llm.maxTokens,
      temperature: b.temperature ?? undefined,
      voice: runtime.engines.defaultVoice,
      speed: 1,
      firstClauseMinChars: rt.firstClauseMinChars,
      firstTokenTimeoutMs: rt.firstTokenTimeoutMs,
      ttsTimeoutMs: rt.ttsTimeoutMs,
      queueTimeoutMs: ctx.config.engines.queueTimeoutMs,
      priority: 'batch',
    });
    const head = {
      id: `chatcmpl-${newId('resp').slice(5)}`,
      created: Math.floor(Date.now() / 1000),
      model: runtime.model,
    };
    if (!b.stream) {
      try {
        let done: Extract<AnswerEvent, { type: 'done' }> | undefined;
        for await (const event of answer) if (event.type === 'done') done = event;
        return reply.send({
          ...head,
          object: 'chat.completion',
          choices: [
            { index: 0, message: { role: 'assistant', content: done!.text }, finish_reason: finish(done!) },
          ],
          usage: usage(done!),
        });
      } finally {
        end();
      }
    }
    return streamChunks(reply, answer, head, b.stream_options?.include_usage === true, ctx, end);
  });
}

function streamChunks(
  reply: FastifyReply,
  answer: AsyncIterable<AnswerEvent>,
  head: { id: string; created: number; model: string },
  includeUsage: boolean,
  ctx: RouteContext,
  end: () => void,
): FastifyReply {
  const out = new PassThrough();
  const stallMs = ctx.config.http.writeStallTimeoutMs;
  const chunk = (choices: object[], extra: object = {}) =>
    writeInTurn(
      out,
      `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices, ...extra })}\n\n`,
      stallMs,
    );
  void (async () => {
    try {
      await chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
      for await (const event of answer)
        if (event.type === 'text')
          await chunk([{ index: 0, delta: { content: event.delta }, finish_reason: null }]);
        else if (event.type === 'done') {
          await chunk([{ index: 0, delta: {}, finish_reason: finish(event) }]);
          if (includeUsage) await chunk([], { usage: usage(event) });
        }
      await writeInTurn(out, 'data: [DONE]\n\n', stallMs);
    } catch (err) {
      await writeInTurn(out, `data: ${JSON.stringify({ error: streamError(err) })}\n\n`, stallMs);
    } finally {
      end();
      out.end();
    }
  })();
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .send(out);
}

const finish = (done: Extract<AnswerEvent, { type: 'done' }>) =>
  done.finishReason === 'length' ? 'length' : 'stop';

const usage = (done: Extract<AnswerEvent, { type: 'done' }>) => ({
  prompt_tokens: done.usage.promptTokens,
  completion_tokens: done.usage.completionTokens,
  total_tokens: done.usage.promptTokens + done.usage.completionTokens,
});
