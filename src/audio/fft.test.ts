import { describe, expect, it } from 'vitest';
import { ComplexFft } from './fft.js';

function naiveDft(re: Float64Array, im: Float64Array) {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++)
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      outRe[k]! += re[t]! * Math.cos(a) - im[t]! * Math.sin(a);
      outIm[k]! += re[t]! * Math.sin(a) + im[t]! * Math.cos(a);
    }
  return { outRe, outIm };
}

describe('ComplexFft', () => {
  it.each([1, 2, 5, 8, 12, 30, 49, 400])('matches the naive DFT for size %i', (n) => {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) + (i % 3) * 0.25);
    const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.3) - 0.5);
    const { outRe, outIm } = naiveDft(re, im);
    new ComplexFft(n).transform(re, im);
    for (let k = 0; k < n; k++) {
      expect(re[k]).toBeCloseTo(outRe[k]!, 9);
      expect(im[k]).toBeCloseTo(outIm[k]!, 9);
    }
  });

  it('refuses sizes with a prime factor above 7', () => {
    expect(() => new ComplexFft(22)).toThrow(/prime factor/);
  });
});
