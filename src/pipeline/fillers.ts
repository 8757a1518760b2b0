import { concatFloat32 } from '../audio/pcm.js';
import type { Logger } from '../log.js';
import type { TtsEngine } from '../engines/tts/types.js';
import type { CachedAudio } from './sentence-cache.js';

export interface Filler extends CachedAudio {
  text: string;
}

/**
 * Short phrases that mask the wait for the answer ("Hum, laissez-moi regarder…"), synthesized once
 * per voice at start-up and kept in memory, so one can start the instant a turn ends.
 */
export class FillerBank {
  private readonly byVoice = new Map<string, Filler[]>();
  private readonly last = new Map<string, Filler>();
  played = 0;

  /** Synthesizes the phrases of each voice's language (falls back to French, then English). */
  static async build(
    voices: Map<string, TtsEngine>,
    phrases: Record<string, string[]>,
    logger: Logger,
  ): Promise<FillerBank> {
    const bank = new FillerBank();
    for (const [id, tts] of voices) {
      const list = phrases[tts.language] ?? phrases.fr ?? phrases.en ?? [];
      const fillers: Filler[] = [];
      for (const text of list) {
        const parts: Float32Array[] = [];
        let sampleRate = 0;
        for await (const chunk of tts.synthesize(text)) {
          parts.push(chunk.samples);
          sampleRate = chunk.sampleRate;
        }
        if (parts.length === 0) continue;
        fillers.push({ text, samples: concatFloat32(parts), sampleRate });
      }
      bank.byVoice.set(id, fillers);
      logger.debug({ voice: id, fillers: fillers.length }, 'fillers synthesized');
    }
    return bank;
  }

  /** Every filler of every voice. */
  all(): Filler[] {
    return [...this.byVoice.values()].flat();
  }

  /**
   * A filler of the voice, never the same one twice in a row; undefined when it has none. With
   * `maxMs`, only those that short (else the shortest): when the answer is near, a long filler
   * would hold it back, since the answer plays after the filler.
   */
  pick(voice: string, maxMs = Infinity): Filler | undefined {
    const all = this.byVoice.get(voice);
    if (!all || all.length === 0) return undefined;
    const ms = (f: Filler) => (f.samples.length * 1000) / f.sampleRate;
    let list = all.filter((f) => ms(f) <= maxMs);
    if (list.length === 0) list = [all.reduce((a, b) => (ms(b) < ms(a) ? b : a))];
    const previous = this.last.get(voice);
    let index = Math.floor(Math.random() * list.length);
    if (list.length > 1 && list[index] === previous) index = (index + 1) % list.length;
    this.last.set(voice, list[index]!);
    return list[index];
  }
}
