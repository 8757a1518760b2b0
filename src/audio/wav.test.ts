import { describe, expect, it } from 'vitest';
import type { VoiceError } from '../errors.js';
import { decodeWav, encodeWav } from './wav.js';

function wav(opts: {
  rate: number;
  channels: number;
  bits: number;
  format?: number;
  frames: number[][];
}): Buffer {
  const bytes = opts.bits / 8;
  const data = Buffer.alloc(opts.frames.length * opts.channels * bytes);
  let o = 0;
  for (const frame of opts.frames)
    for (const x of frame) {
      if (opts.format === 3) data.writeFloatLE(x, o);
      else if (opts.bits === 16) data.writeInt16LE(Math.round(x * 32767), o);
      else if (opts.bits === 24) data.writeIntLE(Math.round(x * 8388607), o, 3);
      else if (opts.bits === 8) data[o] = Math.round(x * 127 + 128);
      else data.writeInt32LE(Math.round(x * 2147483647), o);
      o += bytes;
    }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(opts.format ?? 1, 20);
  h.writeUInt16LE(opts.channels, 22);
  h.writeUInt32LE(opts.rate, 24);
  h.writeUInt32LE(opts.rate * opts.channels * bytes, 28);
  h.writeUInt16LE(opts.channels * bytes, 32);
  h.writeUInt16LE(opts.bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('decodeWav', () => {
  it('round-trips 16-bit mono', () => {
    const samples = Int16Array.from([0, 1000, -1000, 32767, -32768]);
    const out = decodeWav(encodeWav(samples, 16000));
    expect(out.sampleRate).toBe(16000);
    expect(Array.from(out.samples)).toEqual(Array.from(samples).map((s) => s / 32768));
  });

  it.each([8, 16, 24, 32])('reads %i-bit PCM stereo and averages it to mono', (bits) => {
    const out = decodeWav(
      wav({
        rate: 48000,
        channels: 2,
        bits,
        frames: [
          [0.5, 0.25],
          [-0.5, -0.25],
        ],
      }),
    );
    expect(out.sampleRate).toBe(48000);
    expect(out.samples[0]).toBeCloseTo(0.375, 1);
    expect(out.samples[1]).toBeCloseTo(-0.375, 1);
  });

  it('reads 32-bit float', () => {
    const out = decodeWav(wav({ rate: 8000, channels: 1, bits: 32, format: 3, frames: [[0.125], [-1]] }));
    expect(Array.from(out.samples)).toEqual([0.125, -1]);
  });

  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return [(err as VoiceError).code, (err as Error).message];
    }
    return ['no error'];
  };

  it('explains what is wrong with bad input', () => {
    expect(code(() => decodeWav(Buffer.from('hello world, not audio'), 'x.wav'))).toEqual([
      'invalid_audio',
      'x.wav: not a WAV file (no RIFF/WAVE header)',
    ]);
    expect(code(() => decodeWav(wav({ rate: 16000, channels: 1, bits: 16, frames: [] }), 'e.wav'))).toEqual([
      'empty_audio',
      'e.wav: the WAV holds no audio samples',
    ]);
    expect(
      code(() =>
        decodeWav(wav({ rate: 16000, channels: 1, bits: 16, format: 6, frames: [[0]] }), 'a.wav'),
      )[0],
    ).toBe('unsupported_audio_format');
    expect(
      code(() => decodeWav(wav({ rate: 96000, channels: 1, bits: 16, frames: [[0]] }), 'h.wav'))[1],
    ).toMatch(/96000 Hz is not supported/);
    expect(
      code(() => decodeWav(wav({ rate: 16000, channels: 1, bits: 64, format: 1, frames: [] }), 'b.wav'))[1],
    ).toMatch(/64-bit pcm samples are not supported/);
  });

  it('hostile headers: every field is read within the file; a truncated file is invalid_audio', () => {
    const good = wav({ rate: 16000, channels: 1, bits: 16, frames: [[0.1], [0.2], [0.3], [0.4]] });
    for (const cut of [16, 20, 30, 36, 40, 43])
      expect(code(() => decodeWav(good.subarray(0, cut), 'c.wav'))[0], `cut at ${cut}`).toBe('invalid_audio');
    // The data chunk announces more bytes than the file holds.
    expect(code(() => decodeWav(good.subarray(0, good.length - 2), 't.wav'))).toEqual([
      'invalid_audio',
      't.wav: the WAV is truncated: its data chunk announces 8 bytes, the file holds 6',
    ]);
    const lots = Buffer.from(good);
    lots.writeUInt16LE(65535, 22); // channels
    expect(code(() => decodeWav(lots, 'n.wav'))[1]).toMatch(/65535 channels/);
    // A streaming writer's placeholder size still reads up to the end.
    for (const placeholder of [0xffffffff, 0x7ffff000]) {
      const streamed = Buffer.from(good);
      streamed.writeUInt32LE(placeholder, 40);
      expect(decodeWav(streamed).samples).toHaveLength(4);
    }
  });
});
