import { ComplexFft } from './fft.js';

export const LOG_MEL_RATE = 16000;
const N_FFT = 400;
const HOP = 160;
const BINS = N_FFT / 2 + 1;

export interface LogMelOptions {
  /** Mel bands (80 for Whisper base and Smart Turn). */
  mels: number;
  /** Output frames; the input must hold `frames * 160` samples (Whisper drops the last frame). */
  frames: number;
  /** Zero mean and unit variance on the waveform first (transformers' `do_normalize`). */
  normalize: boolean;
}

/**
 * Whisper's log-mel spectrogram, as transformers' `WhisperFeatureExtractor` computes it: centred
 * frames (reflect padding of 200), periodic Hann window of 400, |FFT|², Slaney mel filters from 0
 * to 8 kHz, log10 with a 1e-10 floor, clamped to max − 8, then (x + 4) / 4. Output is
 * [mels × frames], row-major by mel band. Two frames share one complex FFT (real and imaginary
 * parts), which halves the cost.
 */
export class WhisperLogMel {
  private readonly fft = new ComplexFft(N_FFT);
  private readonly window = new Float64Array(N_FFT);
  private readonly filters: { first: number; weights: Float64Array }[];
  private readonly re = new Float64Array(N_FFT);
  private readonly im = new Float64Array(N_FFT);
  private readonly power = new Float64Array(2 * BINS);

  constructor(readonly options: LogMelOptions) {
    for (let i = 0; i < N_FFT; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT);
    this.filters = slaneyMelFilters(options.mels, BINS, LOG_MEL_RATE);
  }

  /** `samples` at 16 kHz, exactly `frames * 160` of them. */
  compute(samples: Float32Array): Float32Array {
    const { mels, frames, normalize } = this.options;
    const length = frames * HOP;
    if (samples.length !== length)
      throw new RangeError(`log-mel input must be ${length} samples, got ${samples.length}`);
    const x = normalize ? normalized(samples) : Float64Array.from(samples);
    const padded = reflectPad(x, N_FFT / 2);
    const out = new Float32Array(mels * frames);
    const logs = new Float64Array(mels * frames);
    let max = -Infinity;
    for (let t = 0; t < frames; t += 2) {
      const pair = t + 1 < frames;
      for (let i = 0; i < N_FFT; i++) {
        this.re[i] = padded[t * HOP + i]! * this.window[i]!;
        this.im[i] = pair ? padded[(t + 1) * HOP + i]! * this.window[i]! : 0;
      }
      this.fft.transform(this.re, this.im);
      // Z = X + iY for real X, Y: X[k] = (Z[k] + conj Z[N-k]) / 2, Y[k] = (Z[k] − conj Z[N-k]) / 2i.
      for (let k = 0; k < BINS; k++) {
        const nk = (N_FFT - k) % N_FFT;
        const zr = this.re[k]!;
        const zi = this.im[k]!;
        const cr = this.re[nk]!;
        const ci = -this.im[nk]!;
        const xr = (zr + cr) / 2;
        const xi = (zi + ci) / 2;
        const yr = (zi - ci) / 2;
        const yi = -(zr - cr) / 2;
        this.power[k] = xr * xr + xi * xi;
        this.power[BINS + k] = yr * yr + yi * yi;
      }
      for (let f = 0; f < (pair ? 2 : 1); f++)
        for (let m = 0; m < mels; m++) {
          const { first, weights } = this.filters[m]!;
          let sum = 0;
          for (let j = 0; j < weights.length; j++) sum += weights[j]! * this.power[f * BINS + first + j]!;
          const v = Math.log10(Math.max(sum, 1e-10));
          logs[m * frames + t + f] = v;
          if (v > max) max = v;
        }
    }
    const floor = max - 8;
    for (let i = 0; i < logs.length; i++) out[i] = (Math.max(logs[i]!, floor) + 4) / 4;
    return out;
  }
}

function normalized(samples: Float32Array): Float64Array {
  let mean = 0;
  for (const s of samples) mean += s;
  mean /= samples.length;
  let variance = 0;
  for (const s of samples) variance += (s - mean) * (s - mean);
  variance /= samples.length;
  const scale = 1 / Math.sqrt(variance + 1e-7);
  const out = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = (samples[i]! - mean) * scale;
  return out;
}

/** numpy's `pad(mode="reflect")`: the edge sample is not repeated. */
function reflectPad(x: Float64Array, pad: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n + 2 * pad);
  out.set(x, pad);
  for (let i = 0; i < pad; i++) {
    out[pad - 1 - i] = x[Math.min(n - 1, i + 1)]!;
    out[pad + n + i] = x[Math.max(0, n - 2 - i)]!;
  }
  return out;
}

const slaneyHzToMel = (hz: number) =>
  hz < 1000 ? (3 * hz) / 200 : 15 + Math.log(hz / 1000) * (27 / Math.log(6.4));
const slaneyMelToHz = (mel: number) =>
  mel < 15 ? (200 * mel) / 3 : 1000 * Math.exp((mel - 15) * (Math.log(6.4) / 27));

/** Triangular Slaney-scale filters with Slaney area normalisation, stored as their non-zero spans. */
function slaneyMelFilters(mels: number, bins: number, rate: number) {
  const maxMel = slaneyHzToMel(rate / 2);
  const edges = Array.from({ length: mels + 2 }, (_, i) => slaneyMelToHz((maxMel * i) / (mels + 1)));
  const binHz = (k: number) => (k * (rate / 2)) / (bins - 1);
  return Array.from({ length: mels }, (_, m) => {
    const [lo, mid, hi] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const norm = 2 / (hi - lo);
    const weights: number[] = [];
    let first = -1;
    for (let k = 0; k < bins; k++) {
      const hz = binHz(k);
      const w = Math.max(0, Math.min((hz - lo) / (mid - lo), (hi - hz) / (hi - mid))) * norm;
      if (w > 0) {
        if (first < 0) first = k;
        weights.push(w);
      } else if (first >= 0) break;
    }
    return { first: Math.max(first, 0), weights: Float64Array.from(weights) };
  });
}
