import { describe, expect, it } from 'vitest';
import { mulawEncode } from '../audio/g711.js';
import { VoiceError } from '../errors.js';
import {
  WireDecoder,
  WireEncoder,
  betaFormatName,
  encodeForWire,
  parseWireFormat,
  wireBytesPerSecond,
  wireRate,
  type WireAudioFormat,
} from './audio-format.js';

const PCM24: WireAudioFormat = { type: 'audio/pcm', rate: 24000 };
const PCMU: WireAudioFormat = { type: 'audio/pcmu' };
const PCMA: WireAudioFormat = { type: 'audio/pcma' };

const sine = (rate: number, hz: number, seconds: number, amplitude = 0.5) =>
  Float32Array.from(
    { length: Math.round(rate * seconds) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate),
  );

/** Least-squares fit of a·sin + b·cos at `hz`: the tone's amplitude and the residual's share of the energy. */
function toneFit(x: Float32Array, rate: number, hz: number) {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
    c += x[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
  }
  const [a, b] = [(2 * s) / x.length, (2 * c) / x.length];
  let energy = 0;
  let residual = 0;
  for (let i = 0; i < x.length; i++) {
    const fit = a * Math.sin((2 * Math.PI * hz * i) / rate) + b * Math.cos((2 * Math.PI * hz * i) / rate);
    energy += x[i]! ** 2;
    residual += (x[i]! - fit) ** 2;
  }
  return { amplitude: Math.hypot(a, b), residualShare: residual / energy };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

describe('parseWireFormat', () => {
  it.each<[unknown, WireAudioFormat]>([
    [{ type: 'audio/pcm' }, PCM24],
    [{ type: 'audio/pcm', rate: 24000 }, PCM24],
    [
      { type: 'audio/pcm', rate: 16000 },
      { type: 'audio/pcm', rate: 16000 },
    ],
    [
      { type: 'audio/pcm', rate: 8000 },
      { type: 'audio/pcm', rate: 8000 },
    ],
    [{ type: 'audio/pcmu' }, PCMU],
    [{ type: 'audio/pcma' }, PCMA],
    ['pcm16', PCM24],
    ['g711_ulaw', PCMU],
    ['g711_alaw', PCMA],
  ])('parses %j', (value, expected) => {
    expect(parseWireFormat(value)).toEqual(expected);
  });

  it.each<unknown>([
    { type: 'audio/pcm', rate: 44100 },
    { type: 'audio/pcmu', rate: 16000 },
    'mp3',
    42,
    null,
    {},
  ])('rejects %j with a message listing the accepted formats', (value) => {
    let error: unknown;
    try {
      parseWireFormat(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VoiceError);
    expect((error as VoiceError).code).toBe('unsupported_audio_format');
    expect((error as VoiceError).message).toMatch(/accepted: .*audio\/pcm.*g711_ulaw/);
  });

  it('names formats and gives their rates', () => {
    expect([PCM24, PCMU, PCMA].map(betaFormatName)).toEqual(['pcm16', 'g711_ulaw', 'g711_alaw']);
    expect([PCM24, { type: 'audio/pcm', rate: 16000 } as const, PCMU, PCMA].map(wireRate)).toEqual([
      24000, 16000, 8000, 8000,
    ]);
    expect(wireBytesPerSecond(PCM24)).toBe(48000);
    expect(wireBytesPerSecond(PCMU)).toBe(8000);
  });
});

describe('WireDecoder', () => {
  it('reads PCM16 little-endian', () => {
    const out = new WireDecoder(PCM24).decode(Uint8Array.of(0x00, 0x40, 0x01, 0x80));
    expect(Array.from(out)).toEqual([0.5, -32767 / 32768]);
  });

  it('gives the same samples for odd-length chunks at odd byte offsets as for the whole', () => {
    const bytes = Uint8Array.from({ length: 1001 }, (_, i) => (i * 37 + 11) & 0xff);
    const whole = new WireDecoder(PCM24).decode(bytes);
    expect(whole.length).toBe(500);
    const decoder = new WireDecoder(PCM24);
    // A Buffer view starting at an odd byteOffset, as a WebSocket frame slice can be.
    const padded = Buffer.concat([Buffer.of(0xee), Buffer.from(bytes)]).subarray(1);
    const parts: number[] = [];
    for (let i = 0, size = 1; i < padded.length; i += size, size = (size % 7) + 1)
      parts.push(...decoder.decode(padded.subarray(i, i + size)));
    expect(parts).toEqual(Array.from(whole));
  });

  it.each([PCMU, PCMA])('decodes %j at 8000 Hz', (format) => {
    const decoder = new WireDecoder(format);
    expect(decoder.rate).toBe(8000);
    const out = decoder.decode(new WireEncoder(format, 8000).encode(sine(8000, 440, 0.5)));
    expect(out.length).toBe(4000);
    const fit = toneFit(out, 8000, 440);
    expect(fit.amplitude).toBeCloseTo(0.5, 2);
    expect(fit.residualShare).toBeLessThan(0.001);
  });

  it('decodes μ-law silence to zeros', () => {
    expect(Array.from(new WireDecoder(PCMU).decode(mulawEncode(new Int16Array(4))))).toEqual([0, 0, 0, 0]);
  });
});

describe('WireEncoder', () => {
  it.each<[WireAudioFormat, number]>([
    [PCM24, 48000],
    [PCMU, 8000],
    [PCMA, 8000],
  ])(
    'encodes 1 s of a 22050 Hz 440 Hz sine as %j: %i bytes, and the tone survives',
    (format, expectedBytes) => {
      const encoder = new WireEncoder(format, 22050);
      const input = sine(22050, 440, 1);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < input.length; i += 1000) parts.push(encoder.encode(input.subarray(i, i + 1000)));
      parts.push(encoder.flush());
      const bytes = concat(parts);
      const bytesPerSample = wireBytesPerSecond(format) / wireRate(format);
      expect(Math.abs(bytes.length - expectedBytes)).toBeLessThanOrEqual(3 * bytesPerSample);

      const rate = wireRate(format);
      const decoded = new WireDecoder(format).decode(bytes);
      const fit = toneFit(decoded.subarray(rate * 0.25, rate * 0.75), rate, 440);
      expect(fit.amplitude).toBeCloseTo(0.5, 2);
      expect(fit.residualShare).toBeLessThan(0.001);
    },
  );

  it('writes PCM16 little-endian without resampling at the wire rate', () => {
    const encoder = new WireEncoder(PCM24, 24000);
    expect(Array.from(encoder.encode(Float32Array.of(0.5, -1)))).toEqual([0x00, 0x40, 0x00, 0x80]);
    expect(encoder.flush().length).toBe(0);
  });

  it('rejects an invalid source rate', () => {
    expect(() => new WireEncoder(PCM24, 0)).toThrow(VoiceError);
  });
});

describe('encodeForWire', () => {
  it('encodes a whole clip like a WireEncoder, once per clip and format', () => {
    const clip = sine(22050, 440, 0.5);
    const encoder = new WireEncoder(PCMU, 22050);
    const expected = concat([encoder.encode(clip), encoder.flush()]);
    const first = encodeForWire(clip, 22050, PCMU);
    expect(Array.from(first)).toEqual(Array.from(expected));
    expect(encodeForWire(clip, 22050, PCMU)).toBe(first);
    expect(encodeForWire(clip, 22050, PCM24).length).toBe(2 * Math.round(0.5 * 24000));
    expect(encodeForWire(sine(22050, 440, 0.5), 22050, PCMU)).not.toBe(first);
  });
});
