/**
 * Bounds input audio to `factor` × real time, with a burst of `burstSec` seconds (a client may
 * send a recorded clip at once): a token bucket counted in seconds of audio, refilled by the
 * clock at which the audio arrived. Each 32 ms frame costs a VAD run, so this is what caps the
 * CPU one session can take.
 */
export class AudioRateLimiter {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly factor: number,
    private readonly burstSec: number,
  ) {
    this.tokens = burstSec;
  }

  /** Whether `sec` of audio that arrived at `at` (ms, monotonic) is accepted. */
  take(sec: number, at: number): boolean {
    if (this.last !== undefined && at > this.last)
      this.tokens = Math.min(this.burstSec, this.tokens + ((at - this.last) / 1000) * this.factor);
    this.last = Math.max(this.last ?? at, at);
    if (sec > this.tokens + 1e-9) return false; // float sums of 20 ms frames fall just short
    this.tokens -= sec;
    return true;
  }
}
