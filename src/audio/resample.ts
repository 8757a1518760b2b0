/**
 * Band-limited resampling (windowed sinc, Blackman window), streaming: `push` takes any number of
 * input samples and returns the output samples they complete, so the same instance can sit in a
 * live audio path. Downsampling low-passes at the new Nyquist frequency, so 48 kHz speech does not
 * alias into the 16 kHz band the VAD and Whisper see.
 *
 * Output n sits at input position n·from/to. With the rates reduced to num/den, that position's
 * fractional part takes only `den` values, so the filter taps are computed once per phase and kept
 * (48→16 kHz: one phase; 22.05→16 kHz: 320), instead of per output sample.
 */
export class Resampler {
  readonly ratio: number;
  private readonly cutoff: number;
  private readonly halfWidth: number;
  private readonly num: number;
  private readonly den: number;
  private readonly taps = new Map<number, Float64Array>();
  private buffer: Float32Array;
  /** Outputs produced so far. */
  private produced = 0;
  /** Input samples dropped from the front of `buffer` (which starts with halfWidth zeros). */
  private dropped = 0;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    zeroCrossings = 16,
  ) {
    this.ratio = toRate / fromRate;
    const g = gcd(fromRate, toRate);
    this.num = fromRate / g;
    this.den = toRate / g;
    this.cutoff = Math.min(1, this.ratio) * 0.97;
    this.halfWidth = Math.ceil(zeroCrossings / this.cutoff);
    // halfWidth zeros of history, so the first output sample is aligned with input 0.
    this.buffer = new Float32Array(this.halfWidth);
  }

  push(input: Float32Array): Float32Array {
    if (this.fromRate === this.toRate) return input.slice();
    const merged = new Float32Array(this.buffer.length + input.length);
    merged.set(this.buffer);
    merged.set(input, this.buffer.length);
    const hw = this.halfWidth;
    const out: number[] = [];
    for (;;) {
      const whole = this.produced * this.num;
      const center = Math.floor(whole / this.den) + hw - this.dropped;
      if (center + hw >= merged.length) break;
      const taps = this.phaseTaps(whole % this.den);
      let acc = 0;
      for (let j = 0, k = center - hw + 1; j < taps.length; j++, k++) acc += merged[k]! * taps[j]!;
      out.push(acc);
      this.produced++;
    }
    const next = Math.floor((this.produced * this.num) / this.den) + hw - this.dropped;
    const keepFrom = Math.max(0, next - hw);
    this.buffer = merged.slice(keepFrom);
    this.dropped += keepFrom;
    return Float32Array.from(out);
  }

  /** Flushes the tail (pads with silence) and resets the stream. */
  flush(): Float32Array {
    if (this.fromRate === this.toRate) return new Float32Array(0);
    const position = (this.produced * this.num) / this.den + this.halfWidth - this.dropped;
    const pending = this.buffer.length - position;
    const tail = this.push(new Float32Array(this.halfWidth + 1));
    const wanted = Math.max(0, Math.round(pending * this.ratio));
    this.buffer = new Float32Array(this.halfWidth);
    this.produced = 0;
    this.dropped = 0;
    return tail.subarray(0, Math.min(tail.length, wanted));
  }

  /** Taps for inputs center-hw+1 … center+hw when the output lies `phase/den` past `center`. */
  private phaseTaps(phase: number): Float64Array {
    let taps = this.taps.get(phase);
    if (!taps) {
      const frac = phase / this.den;
      taps = new Float64Array(2 * this.halfWidth);
      for (let j = 0; j < taps.length; j++) taps[j] = this.kernel(frac - (j - this.halfWidth + 1));
      this.taps.set(phase, taps);
    }
    return taps;
  }

  private kernel(d: number): number {
    const x = d * this.cutoff;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w = (d + this.halfWidth) / (2 * this.halfWidth); // 0..1 across the window
    const blackman = 0.42 - 0.5 * Math.cos(2 * Math.PI * w) + 0.08 * Math.cos(4 * Math.PI * w);
    return this.cutoff * sinc * blackman;
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
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
