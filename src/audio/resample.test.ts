import { describe, expect, it } from 'vitest';
import { Resampler, resample } from './resample.js';

const sine = (rate: number, hz: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.sin((2 * Math.PI * hz * i) / rate),
  );
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

describe('resample', () => {
  it.each([
    [48000, 16000],
    [24000, 16000],
    [8000, 16000],
    [16000, 24000],
  ])('%i -> %i Hz keeps a 440 Hz tone, its level and its timing', (from, to) => {
    const out = resample(sine(from, 440, 1), from, to);
    expect(Math.abs(out.length - to)).toBeLessThanOrEqual(1);
    const mid = out.subarray(to * 0.25, to * 0.75);
    expect(rms(mid)).toBeCloseTo(Math.SQRT1_2, 2);
    const expected = sine(to, 440, 1).subarray(to * 0.25, to * 0.75);
    let err = 0;
    for (let i = 0; i < mid.length; i++) err = Math.max(err, Math.abs(mid[i]! - expected[i]!));
    expect(err).toBeLessThan(0.01);
  });

  it('removes content above the new Nyquist frequency instead of aliasing it', () => {
    const out = resample(sine(48000, 12000, 1), 48000, 16000);
    expect(rms(out.subarray(4000, 12000))).toBeLessThan(0.01);
  });

  it('gives the same samples when fed in chunks', () => {
    const input = sine(48000, 300, 0.5);
    const whole = resample(input, 48000, 16000);
    const r = new Resampler(48000, 16000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 960) parts.push(...r.push(input.subarray(i, i + 960)));
    parts.push(...r.flush());
    expect(parts.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) expect(parts[i]).toBeCloseTo(whole[i]!, 5);
  });
});
