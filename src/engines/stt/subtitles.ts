import type { TranscriptSegment } from './types.js';

/** `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT). */
function stamp(sec: number, separator: ',' | '.'): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/** SubRip subtitles, one cue per segment. */
export function toSrt(segments: TranscriptSegment[]): string {
  return segments
    .map((s, i) => `${i + 1}\n${stamp(s.startSec, ',')} --> ${stamp(s.endSec, ',')}\n${s.text.trim()}\n`)
    .join('\n');
}

/** WebVTT subtitles, one cue per segment. */
export function toVtt(segments: TranscriptSegment[]): string {
  return `WEBVTT\n\n${segments.map((s) => `${stamp(s.startSec, '.')} --> ${stamp(s.endSec, '.')}\n${s.text.trim()}\n`).join('\n')}`;
}
