import { describe, expect, it } from 'vitest';
import { AudioRateLimiter } from './audio-rate.js';

describe('AudioRateLimiter', () => {
  it('takes a burst at once, then at most factor × real time', () => {
    const r = new AudioRateLimiter(2, 10);
    expect(r.take(10, 0)).toBe(true);
    expect(r.take(0.02, 0)).toBe(false);
    // One second later: two seconds of audio are accepted, not more.
    let accepted = 0;
    for (let i = 0; i < 200; i++) if (r.take(0.02, 1000)) accepted += 0.02;
    expect(accepted).toBeCloseTo(2, 5);
  });

  it('sustains real-time audio for ever', () => {
    const r = new AudioRateLimiter(2, 1);
    for (let t = 0; t < 600_000; t += 20) expect(r.take(0.02, t)).toBe(true);
  });

  it('does not refill beyond the burst while idle', () => {
    const r = new AudioRateLimiter(2, 5);
    expect(r.take(5, 0)).toBe(true);
    expect(r.take(5.01, 3_600_000)).toBe(false);
    expect(r.take(5, 3_600_000)).toBe(true);
  });
});
