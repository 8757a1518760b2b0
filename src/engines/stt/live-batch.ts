import type { NativeTranscribeResult } from './whisper-native.js';

/**
 * Two voice turns waiting for Whisper at once are transcribed in one window: the first turn, one
 * second of silence, the second. The encoder (most of the work) then runs once for both, over the
 * same context as one turn alone; the segments are split back by their timestamps. Measured on
 * the 38 French commands in pairs (audio_ctx 400, greedy, 2 cores): WER 25.3 % batched vs 25.9 %
 * one by one, in 52 % of the time. A longer gap made Whisper loop on the silence (2 s: 67 % WER).
 */
export const BATCH_GAP_SEC = 1;
/** What the window must keep free after the second turn (the encoder sees no further). */
const BATCH_MARGIN_SEC = 0.5;

/** Whether two turns of these lengths fit one window of `audioCtx` positions (50 per second). */
export function fitsOneWindow(firstSec: number, secondSec: number, audioCtx: number): boolean {
  return firstSec + BATCH_GAP_SEC + secondSec + BATCH_MARGIN_SEC <= audioCtx / 50;
}

/** The samples of both turns with the gap between them. */
export function joinTurns(first: Float32Array, second: Float32Array, rate: number): Float32Array {
  const gap = Math.round(BATCH_GAP_SEC * rate);
  const all = new Float32Array(first.length + gap + second.length);
  all.set(first);
  all.set(second, first.length + gap);
  return all;
}

/**
 * Each turn's result from the window's: a segment belongs to the turn its middle falls in (the
 * boundary is the middle of the gap), the second turn's times are moved back to its own start.
 * Undefined when a turn got no segment: Whisper ran the two together, so neither text can be
 * trusted, and each is transcribed alone.
 */
export function splitTurns(
  result: NativeTranscribeResult,
  firstSec: number,
): [NativeTranscribeResult, NativeTranscribeResult] | undefined {
  const boundaryMs = (firstSec + BATCH_GAP_SEC / 2) * 1000;
  const offsetMs = (firstSec + BATCH_GAP_SEC) * 1000;
  const first = result.segments.filter((s) => (s.t0 + s.t1) / 2 < boundaryMs);
  const second = result.segments
    .filter((s) => (s.t0 + s.t1) / 2 >= boundaryMs)
    .map((s) => ({ ...s, t0: Math.max(0, s.t0 - offsetMs), t1: Math.max(0, s.t1 - offsetMs) }));
  if (first.length === 0 || second.length === 0) return undefined;
  const part = (segments: typeof first): NativeTranscribeResult => ({
    result: segments.map((s) => s.text).join(''),
    segments,
    isAborted: false,
    ...(result.language ? { language: result.language } : {}),
  });
  return [part(first), part(second)];
}
