import { describe, expect, it } from 'vitest';
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from './g711.js';

const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
const decodeOne = (decode: (b: Uint8Array) => Int16Array, code: number) => decode(Uint8Array.of(code))[0];
const encodeOne = (encode: (s: Int16Array) => Uint8Array, sample: number) => encode(Int16Array.of(sample))[0];

function snrDb(encode: (s: Int16Array) => Uint8Array, decode: (b: Uint8Array) => Int16Array): number {
  // 1 s of a -6 dBFS (peak) 440 Hz sine at 8 kHz.
  const input = Int16Array.from({ length: 8000 }, (_, i) =>
    Math.round(16384 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
  );
  const output = decode(encode(input));
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < input.length; i++) {
    signal += input[i]! ** 2;
    noise += (output[i]! - input[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

describe('μ-law', () => {
  it('matches reference values', () => {
    expect(encodeOne(mulawEncode, 0)).toBe(0xff);
    expect(decodeOne(mulawDecode, 0xff)).toBe(0);
    expect(decodeOne(mulawDecode, 0x00)).toBe(-32124);
    expect(decodeOne(mulawDecode, 0x80)).toBe(32124);
    expect(encodeOne(mulawEncode, 32767)).toBe(0x80);
    expect(encodeOne(mulawEncode, -32768)).toBe(0x00);
  });

  it('re-encodes every decoded code to itself (0x7F, the negative zero, becomes 0xFF)', () => {
    const back = mulawEncode(mulawDecode(codes));
    for (let code = 0; code < 256; code++) expect(back[code]).toBe(code === 0x7f ? 0xff : code);
  });

  it('keeps a sine within G.711 quantisation noise', () => {
    expect(snrDb(mulawEncode, mulawDecode)).toBeGreaterThan(30);
  });
});

describe('A-law', () => {
  it('matches reference values', () => {
    expect(encodeOne(alawEncode, 0)).toBe(0xd5);
    expect(decodeOne(alawDecode, 0xd5)).toBe(8);
    expect(decodeOne(alawDecode, 0x55)).toBe(-8);
    expect(decodeOne(alawDecode, 0x2a)).toBe(-32256);
    expect(decodeOne(alawDecode, 0xaa)).toBe(32256);
    expect(encodeOne(alawEncode, 32767)).toBe(0xaa);
    expect(encodeOne(alawEncode, -32768)).toBe(0x2a);
  });

  it('re-encodes every decoded code to itself', () => {
    expect(Array.from(alawEncode(alawDecode(codes)))).toEqual(Array.from(codes));
  });

  it('keeps a sine within G.711 quantisation noise', () => {
    expect(snrDb(alawEncode, alawDecode)).toBeGreaterThan(30);
  });
});
