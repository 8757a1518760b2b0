import type { Audio } from '../audio/wav.js';
import type { SttEngine, TranscribeOptions, Transcript } from '../engines/stt/types.js';

/**
 * A transcription of a turn started at a pause, before the turn is known to be over. Dropped
 * (aborted) when the user goes on; handed to the response when the turn ends, which then does not
 * transcribe again.
 */
export class SpeculativeTranscript {
  private readonly controller = new AbortController();
  readonly promise: Promise<Transcript>;
  result: Transcript | undefined;
  settled = false;

  /** `options`: the session's live-turn settings (language, encoder context, beam). */
  constructor(stt: SttEngine, audio: Audio, options: TranscribeOptions) {
    this.promise = stt.transcribe(audio, { ...options, signal: this.controller.signal, speechKnown: true });
    this.promise.then(
      (t) => {
        this.result = t;
        this.settled = true;
      },
      () => {
        this.settled = true;
      },
    );
  }

  /** Then() callbacks that observe the result; used by the turn to re-decide when it lands. */
  onSettled(fn: () => void): void {
    this.promise.then(fn, fn);
  }

  drop(): void {
    this.controller.abort();
    this.promise.catch(() => undefined);
  }
}
