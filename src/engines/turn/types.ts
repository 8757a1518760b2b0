import type { EngineInfo } from '../types.js';

/** What voice sessions do when the end-of-turn model cannot be used. */
export const TURN_FALLBACK = 'semantic_vad sessions use server_vad (silence only)';

/** 16 kHz mono: the rate of the end-of-turn model's input. */
export const TURN_SAMPLE_RATE = 16000;

export interface TurnPrediction {
  /** Probability that the speaker has finished the turn, 0..1. */
  probability: number;
  /** Feature extraction and inference, on the engine's clock. */
  featuresMs: number;
  inferenceMs: number;
}

/** An audio end-of-turn model: did the speaker finish, judging from how the speech ends? */
export interface TurnEngine {
  readonly info: EngineInfo;
  /** The turn's audio so far at 16 kHz (the model reads its last seconds), ending at "now". */
  predict(samples: Float32Array, signal?: AbortSignal): Promise<TurnPrediction>;
  close(): Promise<void>;
}
