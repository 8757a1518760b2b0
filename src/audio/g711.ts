/**
 * ITU-T G.711 companding: 16-bit linear PCM ↔ 8-bit μ-law or A-law codes (the classic Sun
 * g711.c algorithms). Decoding goes through 256-entry tables built once at load.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

function mulawEncodeSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  // The exponent is the position of the highest set bit above bit 7 (the bias guarantees bit 7 or higher).
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function mulawDecodeSample(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function alawEncodeSample(sample: number): number {
  let value = sample >> 3; // A-law works on 13 bits
  let mask = 0xd5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  if (value > 0xfff) return 0x7f ^ mask;
  let segment = 0;
  while (value >= 0x20 << segment) segment++;
  const mantissa = (value >> (segment < 2 ? 1 : segment)) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function alawDecodeSample(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 0x07;
  const mantissa = (a & 0x0f) << 4;
  const magnitude = segment === 0 ? mantissa + 8 : (mantissa + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, code) => mulawDecodeSample(code));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, code) => alawDecodeSample(code));

function encodeWith(input: Int16Array, encode: (sample: number) => number): Uint8Array {
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = encode(input[i]!);
  return out;
}

function decodeWith(input: Uint8Array, table: Int16Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = table[input[i]!]!;
  return out;
}

export const mulawEncode = (input: Int16Array): Uint8Array => encodeWith(input, mulawEncodeSample);
export const mulawDecode = (input: Uint8Array): Int16Array => decodeWith(input, MULAW_TABLE);
export const alawEncode = (input: Int16Array): Uint8Array => encodeWith(input, alawEncodeSample);
export const alawDecode = (input: Uint8Array): Int16Array => decodeWith(input, ALAW_TABLE);
