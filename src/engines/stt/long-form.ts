import { resample } from '../../audio/resample.js';
import type { Audio } from '../../audio/wav.js';
import { throwIfAborted } from '../../errors.js';
import { detectSpeech } from '../vad/segmenter.js';
import type { SegmenterOptions, SpeechSegment, VadEngine } from '../vad/types.js';
import type { SttEngine, TranscribeOptions, Transcript, TranscriptSegment } from './types.js';

const RATE = 16000;
/** Whisper hears 30 s at a time; windows stay under it with room for the padding. */
export const WINDOW_SEC = 28;
/** Silence kept on each side of a window's speech (Whisper drops words of tightly cut speech). */
const PAD_SEC = 0.3;

export interface LongFormOptions extends Pick<
  TranscribeOptions,
  'language' | 'signal' | 'priority' | 'translate'
> {
  /** After each window: seconds of audio done, of the total. */
  onProgress?: (doneSec: number, totalSec: number) => void;
}

/**
 * Audio of any length: cut at VAD silences into windows of at most 28 s (a longer stretch of
 * speech is cut every 28 s), each decoded in order with its timestamps shifted to the file's
 * clock, and joined. Audio of 28 s or less is one ordinary transcription.
 */
export async function transcribeLong(
  stt: SttEngine,
  vad: { engine: VadEngine; options: SegmenterOptions },
  audio: Audio,
  options: LongFormOptions = {},
): Promise<Transcript> {
  const started = performance.now();
  const samples = audio.sampleRate === RATE ? audio.samples : resample(audio.samples, audio.sampleRate, RATE);
  const totalSec = samples.length / RATE;
  const call: TranscribeOptions = {
    ...(options.language ? { language: options.language } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.priority ? { priority: options.priority } : {}),
    ...(options.translate ? { translate: true } : {}),
  };
  if (totalSec <= WINDOW_SEC) {
    const t = await stt.transcribe({ samples, sampleRate: RATE }, call);
    options.onProgress?.(totalSec, totalSec);
    return t;
  }
  const speech = await detectSpeech(vad.engine, samples, RATE, vad.options, options.signal);
  const windows = speechWindows(speech, totalSec);
  const texts: string[] = [];
  const segments: TranscriptSegment[] = [];
  let language = options.language ?? 'auto';
  let decodeMs = 0;
  let vadMs = 0;
  for (const w of windows) {
    throwIfAborted(options.signal);
    const part = samples.subarray(Math.round(w.startSec * RATE), Math.round(w.endSec * RATE));
    const t = await stt.transcribe({ samples: part, sampleRate: RATE }, { ...call, speechKnown: true });
    decodeMs += t.timing.decodeMs;
    vadMs += t.timing.vadMs;
    language = t.language;
    if (t.text.trim() !== '') texts.push(t.text.trim());
    for (const s of t.segments)
      segments.push({
        startSec: w.startSec + s.startSec,
        endSec: Math.min(w.endSec, w.startSec + s.endSec),
        text: s.text,
      });
    options.onProgress?.(w.endSec, totalSec);
  }
  options.onProgress?.(totalSec, totalSec);
  const totalMs = performance.now() - started;
  return {
    text: texts.join(' '),
    language,
    segments,
    timing: { audioSec: totalSec, vadMs, decodeMs, totalMs, rtf: totalMs / 1000 / totalSec, audioCtx: 1500 },
    ...(windows.length === 0 ? { dropped: 'no_speech' as const } : {}),
  };
}

/** Windows of at most WINDOW_SEC over the speech, cut in the silences between segments. */
export function speechWindows(
  speech: SpeechSegment[],
  totalSec: number,
): { startSec: number; endSec: number }[] {
  const pieces: SpeechSegment[] = [];
  for (const s of speech)
    for (let t = s.startSec; t < s.endSec; t += WINDOW_SEC - 2 * PAD_SEC)
      pieces.push({ startSec: t, endSec: Math.min(s.endSec, t + WINDOW_SEC - 2 * PAD_SEC) });
  const windows: { startSec: number; endSec: number }[] = [];
  for (const p of pieces) {
    const start = Math.max(0, p.startSec - PAD_SEC);
    const end = Math.min(totalSec, p.endSec + PAD_SEC);
    const last = windows.at(-1);
    if (last && end - last.startSec <= WINDOW_SEC) last.endSec = end;
    else if (last && start < last.endSec) {
      // The paddings overlap: the two windows meet half-way.
      const mid = (start + last.endSec) / 2;
      last.endSec = mid;
      windows.push({ startSec: mid, endSec: end });
    } else windows.push({ startSec: start, endSec: end });
  }
  return windows;
}
