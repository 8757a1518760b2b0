import type { Audio } from '../audio/wav.js';
import type { Transcript } from '../engines/stt/types.js';

/** The user started a turn (not a resume after a pause within the same turn). */
export interface TurnStarted {
  itemId: string;
  /** Where the turn's audio starts in the input stream, prefix padding included. */
  audioStartMs: number;
}

/** A turn is over: its audio, and its transcript when it was transcribed while the turn ended. */
export interface TurnEnded {
  itemId: string;
  audio: Audio;
  /** performance.now() of the decision. */
  endedAt: number;
  /** End of the last speech in the input stream. */
  audioEndMs: number;
  /** Why it ended: `silence` (server_vad), `model`, `max_silence`. */
  reason: string;
  /** A transcription of all of the turn's speech, already running or done. */
  transcript?: Promise<Transcript>;
  /** The partial transcript sent while the turn was spoken; the final one is merged onto it. */
  partial?: PartialState;
}

/** What was said of a turn's transcript before it ended (partial transcript deltas). */
export interface PartialState {
  readonly sentText: string;
  /** The final transcript as the partials announced it, and the part of it not yet sent. */
  merge(final: Transcript): { transcript: Transcript; rest: string };
}

/** What hearing tells answering (the session); called inside the session's event order. */
export interface TurnListener {
  speechStarted(turn: TurnStarted): Promise<void>;
  turnEnded(turn: TurnEnded): Promise<void>;
  /** The speech stopped but the turn may go on. */
  turnPaused?(itemId: string): void;
  /** The user went on after a pause: the speculative work of that pause was dropped. */
  turnResumed?(itemId: string, pausedMs: number): void;
  /** Between turns (`x_speech_onset` on): voice heard, not yet long enough to be speech. */
  voiceOnset?(audioStartMs: number): void;
  /** That voice died out before it became speech. */
  voiceOnsetDropped?(audioEndMs: number): void;
  /**
   * What the turn's transcript would read if it ended now (partials merged): each partial draft
   * of the turn so far while the user speaks (`draft`), then the pause's speculative transcript.
   * Work for the answer may start on it; the user may go on.
   */
  turnGuessed?(itemId: string, text: string, draft: boolean): void;
  /** Words of the turn being spoken that are now stable (appended to what was sent before). */
  partialTranscript?(itemId: string, delta: string): void;
}

/** A pause being judged: how long it has lasted and what is known of the turn so far. */
export interface PauseView {
  /** Silence since the end of the last speech, in ms. */
  silenceMs: number;
  /** The turn's last seconds at 16 kHz, up to now (the end-of-turn model's input). */
  audio16k(): Float32Array;
  /** The speculative transcript of the turn so far, once it has arrived. */
  transcript(): Transcript | undefined;
  /** True while a speculative transcription of this pause is still running. */
  transcribing(): boolean;
}

export type Decision = { end: true; reason: string } | { end: false };

/** One way of ending turns (one file each: server-vad, semantic-vad, manual). */
export interface EndOfTurnStrategy {
  readonly name: 'server_vad' | 'semantic_vad' | 'manual';
  /** VAD silence that makes a pause; undefined: no VAD, the client commits. */
  readonly pauseMs: number | undefined;
  /** Silence after which the turn ends whatever else is known (wall clock too). */
  readonly maxSilenceMs: number;
  /** Whether a pause is transcribed at once, before the turn is known to be over. */
  readonly speculative: boolean;
  /** A pause began; `wake` asks for another `decide` once background work has an answer. */
  paused(view: PauseView, wake: () => void): void;
  decide(view: PauseView): Decision;
  /** The user went on: forget this pause. */
  resumed(): void;
}
