import { mulawEncode } from '../audio/g711.js';
import { float32ToInt16 } from '../audio/pcm.js';
import { Resampler } from '../audio/resample.js';
import { wavHeader } from '../audio/wav.js';

export type HttpAudioFormat = 'wav' | 'pcm' | 'mulaw';

/**
 * Encodes a stream of float chunks for an HTTP body: WAV (a header of unknown length, then PCM16),
 * raw PCM16 little-endian, or G.711 μ-law at 8 kHz (telephony). Resamples when `rate` differs.
 */
export class HttpAudioEncoder {
  readonly rate: number;
  private readonly resampler: Resampler | undefined;
  private started = false;

  constructor(
    readonly format: HttpAudioFormat,
    sourceRate: number,
    rate?: number,
  ) {
    this.rate = format === 'mulaw' ? 8000 : (rate ?? sourceRate);
    this.resampler = this.rate === sourceRate ? undefined : new Resampler(sourceRate, this.rate);
  }

  get contentType(): string {
    if (this.format === 'wav') return 'audio/wav';
    if (this.format === 'mulaw') return 'audio/basic';
    return `audio/L16; rate=${this.rate}; channels=1`;
  }

  /** Bytes for the next chunk (the WAV header goes before the first). */
  encode(samples: Float32Array): Buffer {
    return this.emit(this.resampler ? this.resampler.push(samples) : samples);
  }

  /** The resampler's tail (and a header when nothing was encoded yet). */
  end(): Buffer {
    return this.emit(this.resampler ? this.resampler.flush() : new Float32Array(0));
  }

  private emit(samples: Float32Array): Buffer {
    const body = this.bytes(samples);
    const first = !this.started;
    this.started = true;
    return first && this.format === 'wav' ? Buffer.concat([wavHeader(this.rate), body]) : body;
  }

  private bytes(samples: Float32Array): Buffer {
    const pcm = float32ToInt16(samples);
    if (this.format === 'mulaw') return Buffer.from(mulawEncode(pcm));
    return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  }
}
