import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatMessage, LlmUsage } from '../engines/llm/types.js';
import { isAbortError, VoiceError } from '../errors.js';
import { HttpConversation } from '../http/conversation.js';
import { TurnTimeline } from '../pipeline/timing.js';
import { newId } from '../protocol/server-events.js';
import { sessionTag } from '../store/session-id.js';
import type { RouteContext } from './context.js';
import { sourcesOf, withPassages } from '../rag/prompt.js';
import type { Passage } from '../rag/types.js';
import type { Retrieval } from '../rag/retrieval.js';

/** One HTTP chat turn: its stored conversation, prompt, timeline, logger and abort signal. */
export interface HttpTurn {
  id: string;
  sessionId: string;
  messages: ChatMessage[];
  timeline: TurnTimeline;
  log: FastifyBaseLogger;
  /** Aborts when the client goes away, or when shutdown reaches its deadline. */
  signal: AbortSignal;
  /** Saves the answer (what was written, even if cut short) and reports the turn. */
  finish(answer: string, error?: unknown): Promise<void>;
  /** Stores and counts the tokens a fallback upstream used for this answer. */
  addFallbackUsage(usage: LlmUsage): Promise<void>;
  /** The knowledge base passages the answer was prompted with. */
  sources: { source: string; chunk_id: string }[];
}

/**
 * Opens the conversation, saves the user's message at once (a failed answer loses nothing said),
 * and ties the turn to the client connection and the server's shutdown.
 */
export async function startTurn(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  sessionId: string | undefined,
  message: string,
): Promise<HttpTurn> {
  const timeline = new TurnTimeline();
  timeline.mark('response_created');
  const job = ctx.drain.begin();
  try {
    const conversation = await HttpConversation.open(
      ctx.store,
      request.principal.owner,
      sessionId,
      ctx.config.store.historyItems,
    );
    await conversation.save('user', message);
    const controller = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) controller.abort(new VoiceError('aborted', 'the client went away'));
    };
    reply.raw.on('close', onClose);
    const onShutdown = () => controller.abort(job.signal.reason);
    job.signal.addEventListener('abort', onShutdown, { once: true });
    const id = newId('resp');
    const log = request.log.child({ turn: id, session: sessionTag(conversation.sessionId) });
    const passages = ctx.rag
      ? await retrieve(ctx.rag, message, timeline, ctx.config.rag.timeoutMs, controller.signal)
      : [];
    return {
      id,
      sessionId: conversation.sessionId,
      messages: withPassages(
        [
          { role: 'system', content: ctx.config.realtime.instructions },
          ...conversation.history,
          { role: 'user', content: message },
        ],
        passages,
        ctx.config.rag.language,
      ),
      sources: sourcesOf(passages),
      timeline,
      log,
      signal: controller.signal,
      async addFallbackUsage(usage) {
        const tokens = { inputTokens: usage.promptTokens, outputTokens: usage.completionTokens };
        ctx.metrics.fallback.upstreamTurn('completed', {
          input_tokens: tokens.inputTokens,
          output_tokens: tokens.outputTokens,
        });
        try {
          await conversation.addUsage(tokens);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'saving the fallback usage failed');
        }
      },
      async finish(answer, error) {
        reply.raw.off('close', onClose);
        job.signal.removeEventListener('abort', onShutdown);
        timeline.mark('done');
        const status = error === undefined ? 'completed' : isAbortError(error) ? 'cancelled' : 'failed';
        try {
          await conversation.save('assistant', answer);
        } finally {
          job.end();
          const timings = timeline.toJSON();
          ctx.metrics.turn('http', timings, status);
          log.info({ status, timings: timings.marks }, 'turn done');
        }
      },
    };
  } catch (err) {
    job.end();
    throw err;
  }
}

/** The passages for the message, within the HTTP retrieval limit (none past it), with their marks. */
async function retrieve(
  rag: Retrieval,
  message: string,
  timeline: TurnTimeline,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Passage[]> {
  const job = rag.start(message, signal);
  timeline.markAt('rag_started', job.startedAt);
  const got = await rag.within(job, timeoutMs);
  timeline.markAt(got.outcome === 'done' ? 'rag_done' : 'rag_dropped', got.endedAt);
  return got.passages;
}

/** The catalogue code and message of an error that ended a stream (sent as its last event). */
export function streamError(err: unknown): { code: string; message: string } {
  if (err instanceof VoiceError) return { code: err.code, message: err.message };
  return { code: 'engine_failed', message: err instanceof Error ? err.message : String(err) };
}
