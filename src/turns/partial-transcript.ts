import type { Audio } from '../audio/wav.js';
import type { SttEngine, Transcript } from '../engines/stt/types.js';
import { editDistance, editDistanceRow } from './edit-distance.js';
import type { PartialState } from './types.js';

/** whisper.cpp encoder positions per second of audio. */
const CTX_PER_SEC = 50;
/** Fast French speech is about 4 words, 8 tokens a second: more is Whisper repeating itself. */
const TOKENS_PER_SEC = 8;
/** Drafts of less audio (prefix padding included) are mostly Whisper guessing: none is made. */
export const PARTIAL_MIN_SEC = 0.8;
/** Past this, a turn is longer than Whisper's window: partials stop, the final transcript is whole. */
export const PARTIAL_MAX_SEC = 28;

export interface PartialOptions {
  language: string;
  /** Audio the turn must have grown by before it is transcribed again. */
  intervalMs: number;
}

/** A partial slower than this is stale before it lands: twice the audio, at least 1 s. */
export function partialTimeoutMs(audioSec: number): number {
  return Math.round(Math.max(1000, audioSec * 2000));
}

/** Words compared without case or punctuation: "Ferme," and "ferme" agree. */
export function wordKey(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

export function splitWords(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/**
 * Local agreement (as whisper_streaming's LocalAgreement-2): the words two successive
 * transcriptions of the growing turn agree on, from the start, are stable. The last word of the
 * newer one is never stable: it may be cut off, and it carries the end punctuation of a
 * transcript that is not over. Returns how many words of `current` are stable, never fewer than
 * already confirmed.
 */
export function stableCount(previous: string[], current: string[], confirmed: number): number {
  let n = 0;
  while (n < previous.length && n < current.length - 1 && wordKey(previous[n]!) === wordKey(current[n]!)) n++;
  return Math.max(n, confirmed);
}

/**
 * The final transcript as the partials announced it: the words already sent, then what the final
 * transcription of the whole turn says after them. Where the two disagree, the final words that
 * best match the sent ones are the ones replaced (word edits, a misspelt word counting as part of
 * one: "fermé" stands for "Fermez"; on a tie, as many words as were sent).
 */
export function mergeFinal(sent: string[], finalText: string): { text: string; rest: string } {
  const sentText = sent.join('').trimStart();
  const words = splitWords(finalText);
  if (sent.length === 0) {
    const text = finalText.trim();
    return { text, rest: text };
  }
  // distances[j]: from the sent words to the final transcript's first j words.
  const distances = editDistanceRow(sent.map(wordKey), words.map(wordKey), wordCost);
  let cut = 0;
  for (let j = 1; j < distances.length; j++) {
    const d = distances[j]!;
    const best = distances[cut]!;
    if (
      d < best - 1e-9 ||
      (Math.abs(d - best) < 1e-9 && Math.abs(j - sent.length) < Math.abs(cut - sent.length))
    )
      cut = j;
  }
  let rest = words.slice(cut).join('').trimEnd();
  if (rest !== '' && !/^\s/.test(rest)) rest = ` ${rest}`;
  return { text: sentText + rest, rest };
}

/** A substitution costs the share of letters that differ. */
function wordCost(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.max(a.length, b.length);
  return n === 0 ? 0 : editDistance([...a], [...b]) / n;
}

/**
 * Transcribes a turn again and again while it is spoken (at most one decode at a time, once it
 * has grown by `intervalMs`), on the STT's `partial` lane, and keeps the words that two
 * transcriptions in a row agree on. What it confirms never changes: the final transcript is
 * merged onto it (`merge`), so the deltas a client received add up to the transcript it is given.
 */
export class PartialTranscriber {
  private previous: string[] = [];
  private readonly confirmed: string[] = [];
  private running: AbortController | undefined;
  private decodedSamples = 0;
  private stopped = false;

  constructor(
    private readonly stt: SttEngine,
    private readonly options: PartialOptions,
  ) {}

  /** The words sent so far, as one string (the first without its leading space). */
  get sentText(): string {
    return this.confirmed.join('').trimStart();
  }

  /**
   * Starts a transcription of `audio` (the turn so far) when none runs and it has grown enough;
   * `landed` gets its result, to be passed to `accept` in the session's event order.
   */
  maybeRun(audio: () => Audio, samples: number, rate: number, landed: (t: Transcript) => void): void {
    if (this.stopped || this.running) return;
    if (samples - this.decodedSamples < (this.options.intervalMs * rate) / 1000) return;
    if (samples / rate > PARTIAL_MAX_SEC || samples / rate < PARTIAL_MIN_SEC) return;
    const controller = new AbortController();
    this.running = controller;
    this.decodedSamples = samples;
    const sec = samples / rate;
    this.stt
      .transcribe(audio(), {
        language: this.options.language,
        // Greedy, with the encoder sized to the audio: a partial is a draft, needed fast.
        beamSize: 1,
        audioCtx: Math.ceil((sec + 1) * CTX_PER_SEC),
        draftMaxTokens: Math.ceil(sec * TOKENS_PER_SEC) + 8,
        speechKnown: true,
        priority: 'partial',
        // A draft that loops (Whisper repeating itself on a fragment) is given up: the next one comes.
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(partialTimeoutMs(sec))]),
      })
      .then(
        (t) => {
          if (this.running === controller) this.running = undefined;
          if (!controller.signal.aborted) landed(t);
        },
        () => {
          if (this.running === controller) this.running = undefined;
        },
      );
  }

  /**
   * The latest draft of the whole turn, unstable words included, as the final transcript would
   * read with it ('' before the first draft).
   */
  get draftText(): string {
    return this.previous.length === 0 ? '' : mergeFinal(this.confirmed, this.previous.join('')).text;
  }

  /** A transcription of the turn so far landed: returns the newly stable text to send ('' if none). */
  accept(t: Transcript): string {
    if (this.stopped || t.dropped) return '';
    const current = splitWords(t.text);
    const n = stableCount(this.previous, current, this.confirmed.length);
    this.previous = current;
    if (n <= this.confirmed.length) return '';
    const fresh = current.slice(this.confirmed.length, n);
    const delta = this.confirmed.length === 0 ? fresh.join('').trimStart() : fresh.join('');
    this.confirmed.push(...fresh);
    return delta;
  }

  /** Silence began: the transcription in flight is dropped (the final one needs the engine). */
  hold(): void {
    this.running?.abort();
    this.running = undefined;
  }

  /** The turn is over: nothing more runs; `merge` still works. */
  stop(): void {
    this.stopped = true;
    this.hold();
  }

  /** The final transcript as the partials announced it, and the part not yet sent. */
  merge(final: Transcript): { transcript: Transcript; rest: string } {
    const { text, rest } = mergeFinal(this.confirmed, final.dropped ? '' : final.text);
    return { transcript: { ...final, text }, rest };
  }
}

/** The transcript given to the client, and what of it was not sent as a partial yet. */
export function finalText(
  transcript: Transcript,
  partial: PartialState | undefined,
): { text: string; rest: string } {
  if (!partial) {
    const text = transcript.text.trim();
    return { text, rest: text };
  }
  const merged = partial.merge(transcript);
  return { text: merged.transcript.text, rest: merged.rest };
}
