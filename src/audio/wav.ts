import { readFile } from 'node:fs/promises';
import { VoiceError } from '../errors.js';

/** Decoded audio: mono float samples in [-1, 1] at `sampleRate`. */
export interface Audio {
  samples: Float32Array;
  sampleRate: number;
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  format: 'pcm' | 'float';
}

const PCM = 1;
const FLOAT = 3;
const EXTENSIBLE = 0xfffe;
const ENCODING_NAMES: Record<number, string> = {
  2: 'ADPCM',
  6: 'A-law',
  7: 'mu-law',
  17: 'IMA ADPCM',
  85: 'MP3',
};
/** A data size this large is a streaming writer's "until the end" (0xFFFFFFFF; espeak-ng's 0x7FFFF000). */
const STREAMED_SIZE = 0x7fff0000;
const MAX_CHANNELS = 64;
export const SUPPORTED_RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000] as const;

/**
 * Parses a RIFF/WAVE file: PCM 8/16/24/32-bit or IEEE float 32/64, any channel count (averaged to
 * mono), rates 8–48 kHz. Anything else is a VoiceError with a message a user can act on.
 */
export function decodeWav(buf: Buffer, name = 'input'): Audio & { info: WavInfo } {
  const { info, data } = parseWav(buf, name);
  const bytes = info.bitsPerSample / 8;
  const frames = Math.floor(data.length / (bytes * info.channels));
  if (frames === 0) throw new VoiceError('empty_audio', `${name}: the WAV holds no audio samples`);
  const samples = new Float32Array(frames);
  const read = sampleReader(data, info);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < info.channels; c++) sum += read((f * info.channels + c) * bytes);
    samples[f] = sum / info.channels;
  }
  return { samples, sampleRate: info.sampleRate, info };
}

/** Seconds of audio a WAV holds, read from its header without decoding a sample. */
export function wavDurationSec(buf: Buffer, name = 'input'): number {
  const { info, data } = parseWav(buf, name);
  return data.length / ((info.bitsPerSample / 8) * info.channels) / info.sampleRate;
}

/**
 * The format and the data chunk. Every field is read within the file: a header cut short, or a
 * data chunk announcing more bytes than the file holds (other than a streaming writer's
 * placeholder size), is `invalid_audio`.
 */
function parseWav(buf: Buffer, name: string): { info: WavInfo; data: Buffer } {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new VoiceError('invalid_audio', `${name}: not a WAV file (no RIFF/WAVE header)`);
  let offset = 12;
  let info: WavInfo | undefined;
  let data: Buffer | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'data' && body + size > buf.length) {
      if (size < STREAMED_SIZE)
        throw new VoiceError(
          'invalid_audio',
          `${name}: the WAV is truncated: its data chunk announces ${size} bytes, the file holds ${buf.length - body}`,
        );
      size = buf.length - body; // a streamed WAV: up to the end
    }
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length)
        throw new VoiceError('invalid_audio', `${name}: truncated fmt chunk`);
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const bitsPerSample = buf.readUInt16LE(body + 14);
      if (tag === EXTENSIBLE && size >= 40 && body + 26 <= buf.length) tag = buf.readUInt16LE(body + 24);
      if (tag !== PCM && tag !== FLOAT)
        throw new VoiceError(
          'unsupported_audio_format',
          `${name}: WAV encoding ${tag}${ENCODING_NAMES[tag] ? ` (${ENCODING_NAMES[tag]})` : ''} is not supported (use PCM or 32-bit float)`,
        );
      const format = tag === PCM ? 'pcm' : 'float';
      const okBits = format === 'pcm' ? [8, 16, 24, 32] : [32, 64];
      if (!okBits.includes(bitsPerSample))
        throw new VoiceError(
          'unsupported_audio_format',
          `${name}: ${bitsPerSample}-bit ${format} samples are not supported (${format} accepts ${okBits.join(', ')} bits)`,
        );
      if (channels < 1 || channels > MAX_CHANNELS)
        throw new VoiceError(
          'invalid_audio',
          `${name}: WAV declares ${channels} channels (1 to ${MAX_CHANNELS})`,
        );
      if (sampleRate < 8000 || sampleRate > 48000)
        throw new VoiceError(
          'unsupported_audio_format',
          `${name}: sample rate ${sampleRate} Hz is not supported (8000 to 48000 Hz)`,
        );
      info = { sampleRate, channels, bitsPerSample, format };
    } else if (id === 'data') {
      data = buf.subarray(body, Math.min(buf.length, body + size));
      if (info) break;
    }
    offset = body + size + (size % 2);
  }
  if (!info) throw new VoiceError('invalid_audio', `${name}: WAV has no fmt chunk`);
  if (!data) throw new VoiceError('invalid_audio', `${name}: WAV has no data chunk`);
  return { info, data };
}

function sampleReader(data: Buffer, info: WavInfo): (byteOffset: number) => number {
  if (info.format === 'float')
    return info.bitsPerSample === 32 ? (o) => data.readFloatLE(o) : (o) => data.readDoubleLE(o);
  switch (info.bitsPerSample) {
    case 8:
      return (o) => (data[o]! - 128) / 128;
    case 16:
      return (o) => data.readInt16LE(o) / 32768;
    case 24:
      return (o) => data.readIntLE(o, 3) / 8388608;
    default:
      return (o) => data.readInt32LE(o) / 2147483648;
  }
}

export async function readWav(path: string): Promise<Audio & { info: WavInfo }> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(err));
    throw new VoiceError('file_not_found', `${path}: ${why}`);
  }
  return decodeWav(buf, path);
}

/** A 16-bit PCM mono WAV. */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  return Buffer.concat([
    wavHeader(sampleRate, samples.byteLength),
    Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength),
  ]);
}

/**
 * The 44-byte header of a 16-bit PCM mono WAV. Without a length (a stream whose end is not known
 * yet), both sizes are 0xFFFFFFFF, which players and `decodeWav` read as "up to the end".
 */
export function wavHeader(sampleRate: number, dataBytes?: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(dataBytes === undefined ? 0xffffffff : 36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(PCM, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes ?? 0xffffffff, 40);
  return header;
}
