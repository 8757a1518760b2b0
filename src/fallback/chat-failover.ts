import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from '../engines/llm/types.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from '../engines/tts/types.js';
import { VoiceError, type ErrorCode } from '../errors.js';
import type { FallbackReason } from './policy.js';

/** Which backend answered an HTTP turn (all of it, or from some point on), and why. */
export interface ServedBy {
  backend: 'local' | 'openai';
  reason?: FallbackReason;
  /** Which backend wrote the words (the voice may fail over alone). */
  llm: 'local' | 'openai';
}

/** A stage that failed, as opposed to a cancel or a client's mistake. */
const FAILURES = new Set<ErrorCode>(['engine_failed', 'engine_unavailable']);
const isFailure = (err: unknown, signal: AbortSignal | undefined) =>
  !signal?.aborted && err instanceof VoiceError && FAILURES.has(err.code);

/**
 * The local LLM, answered by the upstream instead when it fails before its first word (an answer
 * the client has begun to read is not restarted: its failure stands).
 */
export function failoverLlm(local: LlmEngine, upstream: LlmEngine, servedBy: ServedBy): LlmEngine {
  return {
    info: local.info,
    close: () => local.close(),
    async *chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
      let wrote = false;
      try {
        for await (const event of local.chat(messages, options)) {
          if (event.type === 'delta') wrote = true;
          yield event;
        }
      } catch (err) {
        if (wrote || !isFailure(err, options.signal)) throw err;
        servedBy.backend = 'openai';
        servedBy.reason = 'error';
        servedBy.llm = 'openai';
        yield* upstream.chat(messages, options);
      }
    },
  };
}

/** The local voice, and the upstream's from the sentence it fails on to the end of the answer. */
export function failoverTts(local: TtsEngine, upstream: TtsEngine, servedBy: ServedBy): TtsEngine {
  let failed = false;
  return {
    info: local.info,
    language: local.language,
    close: () => local.close(),
    async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<TtsChunk> {
      if (failed) {
        yield* upstream.synthesize(text, options);
        return;
      }
      let spoke = false;
      try {
        for await (const chunk of local.synthesize(text, options)) {
          spoke = true;
          yield chunk;
        }
      } catch (err) {
        if (spoke || !isFailure(err, options.signal)) throw err;
        failed = true;
        servedBy.backend = 'openai';
        servedBy.reason = 'error';
        yield* upstream.synthesize(text, options);
      }
    },
  };
}
