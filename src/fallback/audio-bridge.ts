import { float32ToInt16 } from '../audio/pcm.js';
import { Resampler } from '../audio/resample.js';
import {
  int16ToPcm16,
  WireDecoder,
  WireEncoder,
  wireRate,
  type WireAudioFormat,
} from '../protocol/audio-format.js';

/** What the upstream hears and speaks: PCM16 at 24 kHz, OpenAI's default and its only PCM rate. */
export const UPSTREAM_FORMAT: WireAudioFormat = { type: 'audio/pcm', rate: 24000 };

const isUpstreamFormat = (f: WireAudioFormat) => f.type === 'audio/pcm' && wireRate(f) === 24000;

/** The client's input audio (its wire format) → the upstream's; unchanged when they are the same. */
export class InboundAudio {
  private readonly decoder: WireDecoder;
  private readonly resampler: Resampler | undefined;
  readonly passThrough: boolean;

  constructor(format: WireAudioFormat) {
    this.passThrough = isUpstreamFormat(format);
    this.decoder = new WireDecoder(format);
    const rate = wireRate(format);
    this.resampler = rate === 24000 ? undefined : new Resampler(rate, 24000);
  }

  convert(bytes: Uint8Array): Uint8Array {
    if (this.passThrough) return bytes;
    const samples = this.decoder.decode(bytes);
    return int16ToPcm16(float32ToInt16(this.resampler ? this.resampler.push(samples) : samples));
  }
}

/** The upstream's answer audio → the client's output format; unchanged when they are the same. */
export class OutboundAudio {
  private readonly decoder = new WireDecoder(UPSTREAM_FORMAT);
  private readonly encoder: WireEncoder;
  readonly passThrough: boolean;

  constructor(format: WireAudioFormat) {
    this.passThrough = isUpstreamFormat(format);
    this.encoder = new WireEncoder(format, 24000);
  }

  convert(bytes: Uint8Array): Uint8Array {
    return this.passThrough ? bytes : this.encoder.encode(this.decoder.decode(bytes));
  }

  /** The resampler's tail at the end of an item's audio. */
  flush(): Uint8Array {
    return this.passThrough ? new Uint8Array(0) : this.encoder.flush();
  }
}

/** Bytes a base64 string holds, without decoding it. */
export function base64Bytes(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/** Milliseconds of upstream audio in `bytes` (PCM16, 24 kHz). */
export function upstreamAudioMs(bytes: number): number {
  return bytes / 48;
}
