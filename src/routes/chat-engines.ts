import type { LlmEngine } from '../engines/llm/types.js';
import type { TtsEngine } from '../engines/tts/types.js';
import { admitBatch } from '../engines/types.js';
import { VoiceError } from '../errors.js';
import { failoverLlm, failoverTts, type ServedBy } from '../fallback/chat-failover.js';
import type { FallbackReason } from '../fallback/policy.js';
import type { SentenceCache } from '../pipeline/sentence-cache.js';
import { runtimeOf, voiceOf, type RouteContext } from './context.js';

/** The engines an HTTP chat turn runs on, and who serves it. */
export interface ChatEngines {
  llm: LlmEngine;
  tts?: TtsEngine;
  voice: string;
  defaultVoice: string;
  cache: SentenceCache;
  model: string;
  servedBy: ServedBy;
}

/**
 * The local engines, or the chat fallback's when its policy says so: `always`, `unready` (an engine
 * not serving), `overflow` (a local queue full); under `error` the local engines are wrapped so that
 * a failing LLM (before its first word) or voice hands over to the upstream.
 */
export function chatEngines(
  ctx: RouteContext,
  speak: { voice: string | undefined } | undefined,
): ChatEngines {
  const up = ctx.chatFallback;
  const upstream = (reason: FallbackReason): ChatEngines => {
    ctx.metrics.fallback.fallbackHttp(reason);
    return {
      llm: up!.llm,
      ...(speak ? { tts: up!.tts } : {}),
      voice: up!.config.voice,
      defaultVoice: up!.config.voice,
      cache: up!.cache,
      model: up!.model,
      servedBy: { backend: 'openai', reason, llm: 'openai' },
    };
  };
  if (up?.allows('always')) return upstream('always');
  const runtime = ctx.loaded();
  if (!runtime?.readiness.serving && up?.allows('unready')) return upstream('unready');
  const local = runtimeOf(ctx);
  const voice = speak ? voiceOf(local, speak.voice) : undefined;
  try {
    admitBatch(local.engines.llm, ...(voice ? [voice.tts] : []));
  } catch (err) {
    if (err instanceof VoiceError && err.code === 'engine_busy' && up?.allows('overflow'))
      return upstream('overflow');
    throw err;
  }
  const servedBy: ServedBy = { backend: 'local', llm: 'local' };
  const failover = up?.allows('error') ? up : undefined;
  return {
    llm: failover ? failoverLlm(local.engines.llm, failover.llm, servedBy) : local.engines.llm,
    ...(voice ? { tts: failover ? failoverTts(voice.tts, failover.tts, servedBy) : voice.tts } : {}),
    voice: voice?.id ?? local.engines.defaultVoice,
    defaultVoice: local.engines.defaultVoice,
    cache: local.cache,
    model: local.model,
    servedBy,
  };
}
