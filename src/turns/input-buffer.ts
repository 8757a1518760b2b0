import { concatFloat32 } from '../audio/pcm.js';

/**
 * The uncommitted input audio of a session, decoded, at the wire rate. Positions are absolute
 * sample indexes since the session's audio began (the VAD reports them that way), so a segment
 * can be cut out after older audio was dropped.
 */
export class InputAudioBuffer {
  private chunks: Float32Array[] = [];
  private length = 0;
  /** Absolute index of the first sample still held. */
  private base = 0;

  constructor(
    readonly rate: number,
    private readonly maxSamples: number,
  ) {}

  /** Appends; returns how many old samples were dropped to stay under the limit. */
  append(samples: Float32Array): number {
    this.chunks.push(samples);
    this.length += samples.length;
    const over = this.length - this.maxSamples;
    if (over > 0) this.dropBefore(this.base + over);
    return Math.max(0, over);
  }

  /** Absolute index one past the last sample appended. */
  get end(): number {
    return this.base + this.length;
  }

  get durationMs(): number {
    return (this.length * 1000) / this.rate;
  }

  /** The samples in [from, to) (clamped to what is held), then drops everything before `to`. */
  take(from = this.base, to = this.end): Float32Array {
    const start = Math.max(from, this.base) - this.base;
    const stop = Math.min(to, this.end) - this.base;
    const all = this.flatten();
    const out = all.slice(start, Math.max(start, stop));
    this.dropBefore(Math.max(this.base, Math.min(to, this.end)));
    return out;
  }

  /** The samples in [from, to), clamped to what is held; nothing is dropped. */
  peek(from = this.base, to = this.end): Float32Array {
    const start = Math.max(from, this.base) - this.base;
    const stop = Math.min(to, this.end) - this.base;
    return this.flatten().slice(start, Math.max(start, stop));
  }

  clear(): void {
    this.dropBefore(this.end);
  }

  /** Samples held. */
  get held(): number {
    return this.length;
  }

  /** Forgets the samples before an absolute index. */
  discardBefore(absolute: number): void {
    this.dropBefore(Math.min(absolute, this.end));
  }

  private flatten(): Float32Array {
    if (this.chunks.length !== 1) this.chunks = [concatFloat32(this.chunks)];
    return this.chunks[0] ?? new Float32Array(0);
  }

  /** Drops whole chunks, and the head of the one cut through, without copying what is kept. */
  private dropBefore(absolute: number) {
    let n = absolute - this.base;
    if (n <= 0) return;
    this.base = absolute;
    this.length -= n;
    while (n > 0 && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}
