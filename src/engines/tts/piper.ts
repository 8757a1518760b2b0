import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { VoiceError, throwIfAborted } from '../../errors.js';
import { createOrtSession } from '../onnx.js';
import { SerialQueue } from '../serial.js';
import type { EngineInfo, EngineLoadOptions } from '../types.js';
import { phonemize } from './phonemize.js';
import { splitSentences } from './text/clauses.js';
import { normalizeText } from './text/normalize.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from './types.js';

/** The parts of a Piper voice's .onnx.json this engine uses. */
export interface PiperVoiceConfig {
  audio: { sample_rate: number };
  espeak: { voice: string };
  inference: { noise_scale: number; length_scale: number; noise_w: number };
  phoneme_id_map: Record<string, number[]>;
  num_speakers: number;
  language?: { code?: string };
}

const BOS = '^';
const EOS = '$';
const PAD = '_';

/** Phonemes to ids as Piper does: `^ _ p1 _ p2 _ … _ $`; phonemes not in the map are skipped. */
export function phonemeIds(phonemes: string, map: Record<string, number[]>): number[] {
  const ids = [...map[BOS]!, ...map[PAD]!];
  for (const ch of phonemes.normalize('NFD')) {
    const id = map[ch];
    if (!id) continue;
    ids.push(...id, ...map[PAD]!);
  }
  ids.push(...map[EOS]!);
  return ids;
}

/**
 * Piper (VITS) voices through onnxruntime-node: text → normalized text → espeak-ng phonemes per
 * clause with punctuation kept → ids → VITS → PCM at the voice's rate, one chunk per sentence.
 * Noise, length and noise_w scales come from the voice config; `rate` divides the length scale.
 */
export class PiperTts implements TtsEngine {
  /** One inference at a time per voice: concurrent calls would share (and fight over) the threads. */
  private readonly jobs = new SerialQueue();

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly config: PiperVoiceConfig,
    readonly info: EngineInfo,
    readonly language: string,
  ) {}

  static async load(
    modelPath: string,
    configPath: string,
    voiceId: string,
    options: EngineLoadOptions,
  ): Promise<PiperTts> {
    throwIfAborted(options.signal);
    let config: PiperVoiceConfig;
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as PiperVoiceConfig;
      if (!config.phoneme_id_map?.[BOS] || !config.audio?.sample_rate)
        throw new Error('not a Piper voice config');
    } catch (err) {
      throw new VoiceError(
        'engine_unavailable',
        `Piper voice ${voiceId}: cannot read ${configPath} (${(err as Error).message})`,
      );
    }
    const { session, info } = await createOrtSession(modelPath, 'piper', voiceId, options);
    const language = (config.language?.code ?? config.espeak.voice).slice(0, 2);
    return new PiperTts(session, config, info, language);
  }

  get sampleRate(): number {
    return this.config.audio.sample_rate;
  }

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<TtsChunk> {
    const sentences = splitSentences(normalizeText(text, this.language));
    for (const sentence of sentences) {
      throwIfAborted(options.signal);
      const samples = await this.jobs.run(() => this.infer(sentence, options));
      throwIfAborted(options.signal);
      yield { samples, sampleRate: this.sampleRate, text: sentence };
    }
  }

  /** Phonemes of a text as this voice speaks it (for tests and debugging). */
  phonemes(text: string, signal?: AbortSignal): Promise<string> {
    return phonemize(normalizeText(text, this.language), this.config.espeak.voice, signal);
  }

  private async infer(sentence: string, options: SynthesizeOptions): Promise<Float32Array> {
    const phonemes = await phonemize(sentence, this.config.espeak.voice, options.signal);
    throwIfAborted(options.signal);
    const ids = phonemeIds(phonemes, this.config.phoneme_id_map);
    const { noise_scale, length_scale, noise_w } = this.config.inference;
    const rate = options.rate && options.rate > 0 ? options.rate : 1;
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new ort.Tensor('float32', Float32Array.from([noise_scale, length_scale / rate, noise_w]), [3]),
    };
    if (this.config.num_speakers > 1)
      feeds.sid = new ort.Tensor('int64', BigInt64Array.from([BigInt(options.speaker ?? 0)]), [1]);
    const out = await this.session.run(feeds);
    const audio = (out[this.session.outputNames[0]!] as ort.Tensor).data as Float32Array;
    return Float32Array.from(audio, (x) => Math.max(-1, Math.min(1, x)));
  }

  async close(): Promise<void> {
    await this.jobs.drain();
    await this.session.release();
  }
}
