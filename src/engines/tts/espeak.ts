import { decodeWav } from '../../audio/wav.js';
import { VoiceError, throwIfAborted } from '../../errors.js';
import type { EngineInfo } from '../types.js';
import { runEspeak } from './phonemize.js';
import { splitSentences } from './text/clauses.js';
import { normalizeText } from './text/normalize.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from './types.js';

const DEFAULT_WPM = 175;

/**
 * espeak-ng's own formant synthesis through its CLI: needs no model, speaks every language
 * espeak-ng knows, French included. The always-available fallback voice.
 */
export class EspeakTts implements TtsEngine {
  private constructor(
    readonly info: EngineInfo,
    readonly language: string,
    private readonly voice: string,
  ) {}

  /** Checks that espeak-ng runs and knows the voice. */
  static async load(voice: string, options: { signal?: AbortSignal } = {}): Promise<EspeakTts> {
    const started = performance.now();
    try {
      await runEspeak(['-q', '--ipa', '-v', voice], 'a', options.signal);
    } catch (err) {
      if (err instanceof VoiceError && err.code === 'engine_failed')
        throw new VoiceError(
          'engine_unavailable',
          `espeak-ng has no voice "${voice}" (espeak-ng --voices lists them)`,
        );
      throw err;
    }
    const info: EngineInfo = {
      engine: 'espeak-ng',
      model: voice,
      device: 'cpu',
      threads: 1,
      loadMs: performance.now() - started,
    };
    return new EspeakTts(info, voice.slice(0, 2), voice);
  }

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<TtsChunk> {
    const voice = options.voice ?? this.voice;
    const wpm = Math.round(DEFAULT_WPM * (options.rate && options.rate > 0 ? options.rate : 1));
    for (const sentence of splitSentences(normalizeText(text, voice.slice(0, 2)))) {
      throwIfAborted(options.signal);
      const wav = await runEspeak(
        ['-b', '1', '-v', voice, '-s', String(wpm), '--stdout'],
        sentence,
        options.signal,
      );
      const audio = decodeWav(wav, 'espeak-ng output');
      yield { samples: audio.samples, sampleRate: audio.sampleRate, text: sentence };
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
