import type { Audio } from '../../audio/wav.js';
import type { EngineInfo } from '../types.js';

export interface TranscribeOptions {
  /** ISO 639-1 code, or `auto` to detect; defaults to the engine's configured language. */
  language?: string;
  signal?: AbortSignal;
  /**
   * Set when the caller already knows the audio holds speech (a VAD-ended turn), to skip the
   * engine's own VAD pass. Audio the VAD finds no speech in is otherwise never decoded.
   */
  speechKnown?: boolean;
  /** Encoder context for this call (`auto`, `full` or positions); the engine's setting otherwise. */
  audioCtx?: 'auto' | 'full' | number;
  /** Beam width for this call (1 = greedy); the engine's setting otherwise. */
  beamSize?: number;
  /**
   * `live` (default): a voice turn, served before any queued `partial` (a transcript of a turn
   * still being spoken) or `batch` job (file transcription); those step aside mid-run when a live
   * job arrives (a preempted batch job is run again, a preempted partial fails with `aborted`).
   */
  priority?: 'live' | 'partial' | 'batch';
  /** Called when the work has to wait in the engine's queue (engines without a queue never call it). */
  onQueued?: () => void;
  /** Called when the job leaves the engine's queue and starts: its time limit starts here. */
  onStart?: () => void;
  /** Write the speech in English, whatever its language (Whisper's translate task). */
  translate?: boolean;
  /**
   * A draft (partial transcripts): one greedy pass without temperature fallback, at most this many
   * tokens, so a decode that loops on a fragment ends quickly.
   */
  draftMaxTokens?: number;
}

export interface TranscriptSegment {
  startSec: number;
  endSec: number;
  text: string;
}

export interface TranscriptTiming {
  audioSec: number;
  /** VAD check before decoding (0 when skipped). */
  vadMs: number;
  /** Time in whisper.cpp (encoder + decoder). */
  decodeMs: number;
  totalMs: number;
  /** Real-time factor: totalMs / audio duration. */
  rtf: number;
  /** Encoder context used (1500 = the full 30 s window). */
  audioCtx: number;
}

export interface Transcript {
  text: string;
  language: string;
  segments: TranscriptSegment[];
  timing: TranscriptTiming;
  /** Why the text is empty when the engine chose not to keep what Whisper wrote, or not to decode. */
  dropped?: 'no_speech' | 'hallucination';
}

export interface SttEngine {
  readonly info: EngineInfo;
  /** Mono audio at any rate from 8 to 48 kHz (resampled to 16 kHz inside). */
  transcribe(audio: Audio, options?: TranscribeOptions): Promise<Transcript>;
  close(): Promise<void>;
}
