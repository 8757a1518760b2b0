import type { Config } from '../config.js';
import type { ChatUpstream } from '../fallback/chat-upstream.js';
import { VoiceError } from '../errors.js';
import type { Drain } from '../http/drain.js';
import type { GpuMonitor } from '../metrics/gpu.js';
import type { Metrics } from '../metrics/registry.js';
import type { Readiness } from '../runtime/readiness.js';
import type { Runtime } from '../runtime/runtime.js';
import type { SessionRegistry } from './realtime-socket.js';
import type { ConversationStore } from '../store/types.js';
import type { SharedLimits } from '../limits/shared-limits.js';
import type { TtsEngine } from '../engines/tts/types.js';
import type { Retrieval } from '../rag/retrieval.js';

/** What every route group is given by the server. */
export interface RouteContext {
  config: Config;
  /** The engines once loaded and warmed up, else undefined. */
  loaded: () => Runtime | undefined;
  /** Loading progress until then (what /ready shows while it waits). */
  pending: () => Readiness;
  store: ConversationStore;
  /** Limits counted across instances (Redis); absent: each instance counts alone. */
  limits?: SharedLimits | undefined;
  metrics: Metrics;
  drain: Drain;
  gpu: GpuMonitor;
  sessions: SessionRegistry;
  startedAt: number;
  /** Where `/chat` and `/her/chat` fall back to (absent without a key). */
  chatFallback?: ChatUpstream | undefined;
  /** The knowledge base answers draw on (absent: `rag.engine: off`). */
  rag?: Retrieval | undefined;
}

/** The engines, or a `not_ready` error (503) while they load and warm up. */
export function runtimeOf(ctx: RouteContext): Runtime {
  const runtime = ctx.loaded();
  if (!runtime || !runtime.readiness.serving)
    throw new VoiceError('not_ready', 'the engines are still loading or warming up; see GET /ready');
  return runtime;
}

/** A voice of the runtime by id (the default voice when none is asked for). */
export function voiceOf(runtime: Runtime, id: string | undefined): { id: string; tts: TtsEngine } {
  const voiceId = id ?? runtime.engines.defaultVoice;
  const tts = runtime.engines.voices.get(voiceId);
  if (!tts)
    throw new VoiceError(
      'invalid_request',
      `voice ${JSON.stringify(voiceId).slice(0, 80)} is not loaded (voices: ${[...runtime.engines.voices.keys()].join(', ')})`,
    );
  return { id: voiceId, tts };
}
