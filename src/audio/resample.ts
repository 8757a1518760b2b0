/**
 * Band-limited resampling (windowed sinc, Blackman window), streaming: `push` takes any number of
 * input samples and returns the output samples they complete, so the same instance can sit in a
 * live audio path. Downsampling low-passes at the new Nyquist frequency, so 48 kHz speech does not
 * alias into the 16 kHz band the VAD and Whisper see.
 */
export class Resampler {
  readonly ratio: number;
  private readonly cutoff: number;
  private readonly halfWidth: number;
  private buffer = new Float32Array(0);
  /** Position of the next output sample, in input samples, relative to buffer[0]. */
  private position: number;
  private readonly step: number;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    zeroCrossings = 16,
  ) {
    this.ratio = toRate / fromRate;
    this.step = fromRate / toRate;
    this.cutoff = Math.min(1, this.ratio) * 0.97;
    this.halfWidth = Math.ceil(zeroCrossings / this.cutoff);
    // Start with halfWidth zeros of history so the first output sample is aligned with input 0.
    this.buffer = new Float32Array(this.halfWidth);
    this.position = this.halfWidth;
  }

  push(input: Float32Array): Float32Array {
    if (this.fromRate === this.toRate) return input.slice();
    const merged = new Float32Array(this.buffer.length + input.length);
    merged.set(this.buffer);
    merged.set(input, this.buffer.length);
    const out: number[] = [];
    while (this.position + this.halfWidth < merged.length) {
      out.push(this.sampleAt(merged, this.position));
      this.position += this.step;
    }
    const keepFrom = Math.max(0, Math.floor(this.position) - this.halfWidth);
    this.buffer = merged.slice(keepFrom);
    this.position -= keepFrom;
    return Float32Array.from(out);
  }

  /** Flushes the tail (pads with silence) and resets the stream. */
  flush(): Float32Array {
    if (this.fromRate === this.toRate) return new Float32Array(0);
    const pending = this.buffer.length - this.position;
    const tail = this.push(new Float32Array(this.halfWidth + 1));
    const wanted = Math.max(0, Math.round(pending * this.ratio));
    this.buffer = new Float32Array(this.halfWidth);
    this.position = this.halfWidth;
    return tail.subarray(0, Math.min(tail.length, wanted));
  }

  private sampleAt(x: Float32Array, t: number): number {
    const center = Math.floor(t);
    let acc = 0;
    for (let k = center - this.halfWidth + 1; k <= center + this.halfWidth; k++) {
      const d = t - k;
      acc += x[k]! * this.kernel(d);
    }
    return acc;
  }

  private kernel(d: number): number {
    const x = d * this.cutoff;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w = (d + this.halfWidth) / (2 * this.halfWidth); // 0..1 across the window
    const blackman = 0.42 - 0.5 * Math.cos(2 * Math.PI * w) + 0.08 * Math.cos(4 * Math.PI * w);
    return this.cutoff * sinc * blackman;
  }
}

/** Resamples a whole buffer. */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples;
  const r = new Resampler(fromRate, toRate);
  const head = r.push(samples);
  const tail = r.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
