import type { EngineInfo } from '../types.js';

/** Silero VAD v5 works on 512-sample frames at 16 kHz (32 ms). */
export const VAD_SAMPLE_RATE = 16000;
export const VAD_FRAME_SAMPLES = 512;

/** One stream of audio (one session or file) with its own recurrent state. */
export interface VadStream {
  /** Speech probability of one 512-sample frame at 16 kHz, in stream order. */
  process(frame: Float32Array, signal?: AbortSignal): Promise<number>;
  /** Forgets the stream's state (new utterance source). */
  reset(): void;
}

export interface VadEngine {
  readonly info: EngineInfo;
  createStream(): VadStream;
  close(): Promise<void>;
}

export interface SegmenterOptions {
  /** Speech probability threshold (speech ends below threshold - 0.15, as Silero does). */
  threshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
  prefixPaddingMs: number;
  /** Also report `onset` and `onset_dropped` (off: segments only). */
  reportOnsets?: boolean;
}

/** Times are sample-exact positions in the input stream, in input samples and in seconds. */
export interface SpeechStartEvent {
  type: 'speech_start';
  /** First sample of the speech (frame-aligned at 16 kHz, then mapped to the input rate). */
  startSample: number;
  /** `startSample` minus the prefix padding, clamped at 0. */
  paddedStartSample: number;
  startSec: number;
}

export interface SpeechEndEvent {
  type: 'speech_end';
  startSample: number;
  endSample: number;
  startSec: number;
  endSec: number;
}

/**
 * Inside speech: the first frame of a silence (`silence_started`, at its first sample), and speech
 * again before that silence ended the segment (`silence_broken`). Turn detection transcribes
 * speculatively from the first.
 */
export interface SilenceEvent {
  type: 'silence_started' | 'silence_broken';
  sample: number;
}

/**
 * Outside speech, with `reportOnsets`: the first frame at or above the threshold (`onset`, at its
 * first sample), and voice that died out before it was long enough to be speech
 * (`onset_dropped`, at the first silent frame). An onset that becomes speech is followed by
 * `speech_start` instead.
 */
export interface OnsetEvent {
  type: 'onset' | 'onset_dropped';
  sample: number;
}

export type VadEvent = SpeechStartEvent | SpeechEndEvent | SilenceEvent | OnsetEvent;

export interface SpeechSegment {
  startSec: number;
  endSec: number;
}
