import type { EngineInfo } from '../types.js';

/** One synthesized sentence (or clause): mono float samples in [-1, 1]. */
export interface TtsChunk {
  samples: Float32Array;
  sampleRate: number;
  /** The text this chunk speaks. */
  text: string;
}

export interface SynthesizeOptions {
  /** Voice id (a Piper model id, or an espeak-ng voice such as `fr`); the engine's default otherwise. */
  voice?: string;
  /** Speaking rate: 1 = the voice's own pace, 1.25 = 25 % faster. */
  rate?: number;
  /** Piper multi-speaker voices. */
  speaker?: number;
  signal?: AbortSignal;
  /** `live` (default): a voice turn, whose sentences go before queued `batch` (HTTP) work. */
  priority?: 'live' | 'batch';
  /** Called when the work has to wait in the engine's queue (engines without a queue never call it). */
  onQueued?: () => void;
  /** Called when each sentence leaves the engine's queue and starts: its time limit starts here. */
  onStart?: () => void;
}

export interface TtsEngine {
  readonly info: EngineInfo;
  /** Language of the default voice (ISO 639-1). */
  readonly language: string;
  /**
   * Streams the text's audio one sentence at a time, each chunk as soon as it is synthesized.
   * Aborting stops between (and, for espeak, inside) sentences; the engine stays usable.
   */
  synthesize(text: string, options?: SynthesizeOptions): AsyncIterable<TtsChunk>;
  close(): Promise<void>;
}
