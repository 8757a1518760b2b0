import { PassThrough } from 'node:stream';
import { writeInTurn } from '../http/stream-write.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { float32ToInt16 } from '../audio/pcm.js';
import { parseBody, requireText, sessionIdSchema } from '../http/validate.js';
import { streamAnswer, type AnswerEvent, type AnswerOptions } from '../pipeline/answer-stream.js';
import type { ServedBy } from '../fallback/chat-failover.js';
import { chatEngines, type ChatEngines } from './chat-engines.js';
import type { RouteContext } from './context.js';
import { startTurn, streamError, type HttpTurn } from './turn.js';

const chatBody = z.strictObject({
  message: z.string(),
  session_id: sessionIdSchema.optional(),
  max_tokens: z.number().int().min(1).max(32768).optional(),
});
const herChatBody = chatBody.extend({ voice: z.string().optional() });

/**
 * `POST /chat`: the answer as JSON, or its text deltas as Server-Sent Events with
 * `Accept: text/event-stream`. `POST /her/chat`: an NDJSON stream of text deltas and, one per
 * sentence as soon as it is synthesized, base64 PCM16 audio, while the LLM is still writing.
 */
export function chatRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/chat', async (request, reply) => {
    const body = parseBody(chatBody, request.body);
    const message = requireText(body.message, 'message', ctx.config.http.maxTextChars);
    const engines = chatEngines(ctx, undefined);
    const turn = await startTurn(ctx, request, reply, body.session_id, message);
    const answer = streamAnswer(answerOptions(ctx, engines, turn, body.max_tokens));
    const sse = /\btext\/event-stream\b/.test(String(request.headers.accept ?? ''));
    if (!sse) {
      let text = '';
      try {
        for await (const event of answer)
          if (event.type === 'text') text += event.delta;
          else if (event.type === 'done' && engines.servedBy.llm === 'openai')
            await turn.addFallbackUsage(event.usage);
      } catch (err) {
        await turn.finish(text, err);
        throw err;
      }
      await turn.finish(text);
      return reply.header('x-session-id', turn.sessionId).send({
        session_id: turn.sessionId,
        model: engines.model,
        text,
        backend: engines.servedBy.backend,
        ...(engines.servedBy.reason ? { backend_reason: engines.servedBy.reason } : {}),
        sources: turn.sources,
        timings: turn.timeline.toJSON(),
      });
    }
    return streamTurn(
      reply,
      turn,
      engines.servedBy,
      answer,
      'text/event-stream',
      (e) => `data: ${JSON.stringify(e)}\n\n`,
      ctx.config.http.writeStallTimeoutMs,
    );
  });

  app.post('/her/chat', async (request, reply) => {
    const body = parseBody(herChatBody, request.body);
    const message = requireText(body.message, 'message', ctx.config.http.maxTextChars);
    const engines = chatEngines(ctx, { voice: body.voice });
    const turn = await startTurn(ctx, request, reply, body.session_id, message);
    const answer = streamAnswer({
      ...answerOptions(ctx, engines, turn, body.max_tokens),
      tts: engines.tts,
      voice: engines.voice,
    });
    return streamTurn(
      reply,
      turn,
      engines.servedBy,
      answer,
      'application/x-ndjson',
      (e) => `${JSON.stringify(e)}\n`,
      ctx.config.http.writeStallTimeoutMs,
    );
  });
}

function answerOptions(
  ctx: RouteContext,
  engines: ChatEngines,
  turn: HttpTurn,
  maxTokens?: number,
): AnswerOptions {
  const rt = ctx.config.realtime;
  return {
    llm: engines.llm,
    messages: turn.messages,
    signal: turn.signal,
    maxTokens: maxTokens ?? ctx.config.llm.maxTokens,
    voice: engines.defaultVoice,
    speed: 1,
    cache: engines.cache,
    firstClauseMinChars: rt.firstClauseMinChars,
    firstTokenTimeoutMs: rt.firstTokenTimeoutMs,
    ttsTimeoutMs: rt.ttsTimeoutMs,
    queueTimeoutMs: ctx.config.engines.queueTimeoutMs,
    priority: 'batch',
    timeline: turn.timeline,
  };
}

/**
 * Streams a turn's events as they come: headers now, `text` deltas, `audio` per sentence (base64
 * PCM16), then `done` with the timings, or `error` as the last event. The answer is saved before
 * the last event, also when cut. A client that went away stops the turn through its signal.
 */
function streamTurn(
  reply: FastifyReply,
  turn: HttpTurn,
  servedBy: ServedBy,
  answer: AsyncIterable<AnswerEvent>,
  contentType: string,
  frame: (event: object) => string,
  stallMs: number,
): FastifyReply {
  const out = new PassThrough();
  // Waits while the client's buffer is full: the answer is pulled only as fast as it is read.
  const write = (event: object) => writeInTurn(out, frame(event), stallMs);
  const run = async () => {
    let text = '';
    try {
      for await (const event of answer)
        if (event.type === 'text') {
          text += event.delta;
          await write({ type: 'text', delta: event.delta });
        } else if (event.type === 'audio') {
          const pcm = float32ToInt16(event.audio.samples);
          await write({
            type: 'audio',
            audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64'),
            sample_rate: event.audio.sampleRate,
            text: event.text,
          });
          turn.timeline.mark('first_audio_sent');
          turn.timeline.mark('first_answer_audio_sent');
        } else if (event.type === 'done' && servedBy.llm === 'openai')
          await turn.addFallbackUsage(event.usage);
      if (turn.timeline.has('first_audio_sent')) turn.timeline.mark('last_audio_sent');
      await turn.finish(text);
      await write({
        type: 'done',
        session_id: turn.sessionId,
        text,
        backend: servedBy.backend,
        ...(servedBy.reason ? { backend_reason: servedBy.reason } : {}),
        sources: turn.sources,
        timings: turn.timeline.toJSON(),
      });
    } catch (err) {
      await turn.finish(text, err);
      await write({ type: 'error', error: streamError(err) });
    }
  };
  void run()
    .catch((err: unknown) => turn.log.error({ err }, 'stream failed'))
    .finally(() => out.end());
  return reply
    .header('content-type', `${contentType}; charset=utf-8`)
    .header('cache-control', 'no-cache')
    .header('x-session-id', turn.sessionId)
    .send(out);
}
