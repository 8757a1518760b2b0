import { alawDecode, alawEncode, mulawDecode, mulawEncode } from '../audio/g711.js';
import { float32ToInt16, int16ToFloat32 } from '../audio/pcm.js';
import { Resampler } from '../audio/resample.js';
import { VoiceError } from '../errors.js';

/** The audio formats of the Realtime API's wire. */
export type WireAudioFormat =
  | { type: 'audio/pcm'; rate: 8000 | 16000 | 24000 } // PCM16 little-endian mono
  | { type: 'audio/pcmu' } // G.711 μ-law, 8 kHz
  | { type: 'audio/pcma' }; // G.711 A-law, 8 kHz

export type BetaAudioFormatName = 'pcm16' | 'g711_ulaw' | 'g711_alaw';

const G711_RATE = 8000;

const ACCEPTED =
  "{type: 'audio/pcm', rate?: 24000 | 16000 | 8000}, {type: 'audio/pcmu'}, {type: 'audio/pcma'}, " +
  "or 'pcm16', 'g711_ulaw', 'g711_alaw'";

export function wireRate(f: WireAudioFormat): number {
  return f.type === 'audio/pcm' ? f.rate : G711_RATE;
}

/** Bytes per second of a wire format (PCM16: rate·2; G.711: 8000). */
export function wireBytesPerSecond(f: WireAudioFormat): number {
  return f.type === 'audio/pcm' ? f.rate * 2 : G711_RATE;
}

/**
 * Parses the GA form (`{type, rate?}`, rate defaulting to 24000 for audio/pcm) or the beta string
 * ('pcm16' is 24 kHz PCM, 'g711_ulaw', 'g711_alaw').
 */
export function parseWireFormat(value: unknown): WireAudioFormat {
  if (value === 'pcm16') return { type: 'audio/pcm', rate: 24000 };
  if (value === 'g711_ulaw') return { type: 'audio/pcmu' };
  if (value === 'g711_alaw') return { type: 'audio/pcma' };
  if (typeof value === 'object' && value !== null) {
    const { type, rate } = value as { type?: unknown; rate?: unknown };
    if (type === 'audio/pcm' && (rate === undefined || rate === 24000 || rate === 16000 || rate === 8000))
      return { type, rate: rate ?? 24000 };
    if ((type === 'audio/pcmu' || type === 'audio/pcma') && (rate === undefined || rate === G711_RATE))
      return { type };
  }
  throw new VoiceError(
    'unsupported_audio_format',
    `Unsupported audio format ${describe(value)}; accepted: ${ACCEPTED}.`,
  );
}

/** The beta name of a format. The beta API knows PCM only at 24 kHz, so 16 and 8 kHz PCM are named 'pcm16' too. */
export function betaFormatName(f: WireAudioFormat): BetaAudioFormatName {
  if (f.type === 'audio/pcmu') return 'g711_ulaw';
  if (f.type === 'audio/pcma') return 'g711_alaw';
  return 'pcm16';
}

/** Little-endian PCM16 bytes to samples; a trailing odd byte is ignored. DataView reads any byteOffset. */
export function pcm16ToInt16(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

/** Samples to little-endian PCM16 bytes, whatever the host's byte order. */
export function int16ToPcm16(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(2 * i, samples[i]!, true);
  return out;
}

/** Decodes wire bytes to float samples at the wire rate. Stateful: PCM16 chunks may split a sample. */
export class WireDecoder {
  readonly rate: number;
  /** The first byte of a PCM16 sample whose second byte has not arrived yet. */
  private pending: number | undefined;

  constructor(readonly format: WireAudioFormat) {
    this.rate = wireRate(format);
  }

  decode(bytes: Uint8Array): Float32Array {
    if (this.format.type === 'audio/pcmu') return int16ToFloat32(mulawDecode(bytes));
    if (this.format.type === 'audio/pcma') return int16ToFloat32(alawDecode(bytes));
    let data = bytes;
    if (this.pending !== undefined) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.pending;
      data.set(bytes, 1);
    }
    this.pending = data.length % 2 ? data[data.length - 1] : undefined;
    return int16ToFloat32(pcm16ToInt16(data));
  }
}

/** Encodes float samples at `sourceRate` to wire bytes, resampling with a streaming Resampler. */
export class WireEncoder {
  readonly rate: number;
  private readonly resampler: Resampler;

  constructor(
    readonly format: WireAudioFormat,
    readonly sourceRate: number,
  ) {
    if (!Number.isInteger(sourceRate) || sourceRate <= 0)
      throw new VoiceError('unsupported_audio_format', `Invalid source sample rate ${sourceRate}.`);
    this.rate = wireRate(format);
    this.resampler = new Resampler(sourceRate, this.rate);
  }

  encode(samples: Float32Array): Uint8Array {
    return this.toBytes(this.resampler.push(samples));
  }

  /** Returns the resampler's tail and resets the stream. */
  flush(): Uint8Array {
    return this.toBytes(this.resampler.flush());
  }

  private toBytes(samples: Float32Array): Uint8Array {
    const pcm = float32ToInt16(samples);
    if (this.format.type === 'audio/pcmu') return mulawEncode(pcm);
    if (this.format.type === 'audio/pcma') return alawEncode(pcm);
    return int16ToPcm16(pcm);
  }
}

const encodedClips = new WeakMap<Float32Array, Map<string, Uint8Array>>();

/**
 * A whole clip in a wire format, remembered per clip and format: fillers and cached sentences are
 * played again and again, and resampling them each time would delay their first byte.
 */
export function encodeForWire(
  samples: Float32Array,
  sampleRate: number,
  format: WireAudioFormat,
): Uint8Array {
  const key = `${format.type}/${wireRate(format)}/${sampleRate}`;
  let byFormat = encodedClips.get(samples);
  const known = byFormat?.get(key);
  if (known) return known;
  const encoder = new WireEncoder(format, sampleRate);
  const head = encoder.encode(samples);
  const tail = encoder.flush();
  const bytes = new Uint8Array(head.length + tail.length);
  bytes.set(head);
  bytes.set(tail, head.length);
  if (!byFormat) encodedClips.set(samples, (byFormat = new Map<string, Uint8Array>()));
  byFormat.set(key, bytes);
  return bytes;
}

function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
