import type { FastifyReply } from 'fastify';
import { VoiceError } from '../errors.js';
import type { Drain } from './drain.js';

/**
 * The work of one HTTP request: its signal aborts when the client goes away or when shutdown
 * reaches its deadline (or at `abort`); `end()` releases it (once the answer is written or has failed).
 */
export function requestWork(
  drain: Drain,
  reply: FastifyReply,
): { signal: AbortSignal; abort: (reason: unknown) => void; end: () => void } {
  const job = drain.begin();
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new VoiceError('aborted', 'the client went away'));
  };
  reply.raw.on('close', onClose);
  job.signal.addEventListener('abort', () => controller.abort(job.signal.reason), { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    end: () => {
      reply.raw.off('close', onClose);
      job.end();
    },
  };
}
