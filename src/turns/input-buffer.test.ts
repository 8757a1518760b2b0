import { describe, expect, it } from 'vitest';
import { InputAudioBuffer } from './input-buffer.js';

const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);

describe('InputAudioBuffer', () => {
  it('keeps absolute positions across drops: take cuts [from, to) and forgets what came before', () => {
    const b = new InputAudioBuffer(1000, 100);
    b.append(ramp(0, 30));
    b.append(ramp(30, 30));
    expect(Array.from(b.take(10, 15))).toEqual([10, 11, 12, 13, 14]);
    expect(b.end).toBe(60);
    expect(b.held).toBe(45);
    b.discardBefore(40);
    expect(Array.from(b.take())).toEqual(Array.from(ramp(40, 20)));
    expect(b.held).toBe(0);
  });

  it('over the limit drops the oldest samples, chunk by chunk, and says how many', () => {
    const b = new InputAudioBuffer(1000, 50);
    for (let i = 0; i < 10; i++) expect(b.append(ramp(i * 10, 10))).toBe(i < 5 ? 0 : 10);
    expect(b.held).toBe(50);
    expect(Array.from(b.take())).toEqual(Array.from(ramp(50, 50)));
    b.append(ramp(100, 7));
    expect(b.append(ramp(107, 50))).toBe(7);
    expect(Array.from(b.take(100))).toEqual(Array.from(ramp(107, 50)));
  });
});
