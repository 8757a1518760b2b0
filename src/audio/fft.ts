/**
 * Complex FFT of any length whose prime factors are small (400 = 4·4·5·5 for Whisper's frames),
 * Stockham autosort (decimation in frequency): natural order in and out, no bit reversal. Twiddles
 * and the small DFT matrices are computed once per length.
 */
export class ComplexFft {
  private readonly stages: Stage[] = [];
  private readonly bufRe: Float64Array;
  private readonly bufIm: Float64Array;
  /** Scratch of the generic butterfly (radix ≤ 7), kept: transform runs 400 times per Smart Turn call. */
  private readonly aRe = new Float64Array(8);
  private readonly aIm = new Float64Array(8);

  constructor(readonly size: number) {
    let n = size;
    let stride = 1;
    for (const radix of factorize(size)) {
      const m = n / radix;
      const twRe = new Float64Array(m * radix);
      const twIm = new Float64Array(m * radix);
      for (let p = 0; p < m; p++)
        for (let k = 0; k < radix; k++) {
          const a = (-2 * Math.PI * p * k) / n;
          twRe[p * radix + k] = Math.cos(a);
          twIm[p * radix + k] = Math.sin(a);
        }
      const dftRe = new Float64Array(radix * radix);
      const dftIm = new Float64Array(radix * radix);
      for (let j = 0; j < radix; j++)
        for (let k = 0; k < radix; k++) {
          const a = (-2 * Math.PI * ((j * k) % radix)) / radix;
          dftRe[j * radix + k] = Math.cos(a);
          dftIm[j * radix + k] = Math.sin(a);
        }
      this.stages.push({ radix, m, stride, twRe, twIm, dftRe, dftIm });
      n = m;
      stride *= radix;
    }
    this.bufRe = new Float64Array(size);
    this.bufIm = new Float64Array(size);
  }

  /** In place: `re`/`im` (length `size`) become the forward DFT (no scaling). */
  transform(re: Float64Array, im: Float64Array): void {
    let xRe = re;
    let xIm = im;
    let yRe = this.bufRe;
    let yIm = this.bufIm;
    const { aRe, aIm } = this;
    for (const stage of this.stages) {
      if (stage.radix === 4) radix4(stage, xRe, xIm, yRe, yIm);
      else if (stage.radix === 5) radix5(stage, xRe, xIm, yRe, yIm);
      else generic(stage, xRe, xIm, yRe, yIm, aRe, aIm);
      [xRe, yRe] = [yRe, xRe];
      [xIm, yIm] = [yIm, xIm];
    }
    if (xRe !== re) {
      re.set(xRe);
      im.set(xIm);
    }
  }
}

/** One stage: y[q + s(rp + k)] = W_n^{pk} Σ_j x[q + s(p + jm)] W_r^{jk}. */
function generic(
  { radix: r, m, stride: s, twRe, twIm, dftRe, dftIm }: Stage,
  xRe: Float64Array,
  xIm: Float64Array,
  yRe: Float64Array,
  yIm: Float64Array,
  aRe: Float64Array,
  aIm: Float64Array,
) {
  for (let p = 0; p < m; p++)
    for (let q = 0; q < s; q++) {
      for (let j = 0; j < r; j++) {
        aRe[j] = xRe[q + s * (p + j * m)]!;
        aIm[j] = xIm[q + s * (p + j * m)]!;
      }
      for (let k = 0; k < r; k++) {
        let sRe = 0;
        let sIm = 0;
        for (let j = 0; j < r; j++) {
          const wr = dftRe[j * r + k]!;
          const wi = dftIm[j * r + k]!;
          sRe += aRe[j]! * wr - aIm[j]! * wi;
          sIm += aRe[j]! * wi + aIm[j]! * wr;
        }
        const tr = twRe[p * r + k]!;
        const ti = twIm[p * r + k]!;
        const out = q + s * (r * p + k);
        yRe[out] = sRe * tr - sIm * ti;
        yIm[out] = sRe * ti + sIm * tr;
      }
    }
}

function radix4(
  { m, stride: s, twRe, twIm }: Stage,
  xRe: Float64Array,
  xIm: Float64Array,
  yRe: Float64Array,
  yIm: Float64Array,
) {
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = twRe[p * 4 + 1]!,
      w1i = twIm[p * 4 + 1]!;
    const w2r = twRe[p * 4 + 2]!,
      w2i = twIm[p * 4 + 2]!;
    const w3r = twRe[p * 4 + 3]!,
      w3i = twIm[p * 4 + 3]!;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const a0r = xRe[i0]!,
        a0i = xIm[i0]!;
      const a1r = xRe[i0 + sm]!,
        a1i = xIm[i0 + sm]!;
      const a2r = xRe[i0 + 2 * sm]!,
        a2i = xIm[i0 + 2 * sm]!;
      const a3r = xRe[i0 + 3 * sm]!,
        a3i = xIm[i0 + 3 * sm]!;
      const t0r = a0r + a2r,
        t0i = a0i + a2i;
      const t1r = a0r - a2r,
        t1i = a0i - a2i;
      const t2r = a1r + a3r,
        t2i = a1i + a3i;
      // -i (a1 - a3)
      const t3r = a1i - a3i,
        t3i = a3r - a1r;
      const o = q + s * 4 * p;
      yRe[o] = t0r + t2r;
      yIm[o] = t0i + t2i;
      const b1r = t1r + t3r,
        b1i = t1i + t3i;
      yRe[o + s] = b1r * w1r - b1i * w1i;
      yIm[o + s] = b1r * w1i + b1i * w1r;
      const b2r = t0r - t2r,
        b2i = t0i - t2i;
      yRe[o + 2 * s] = b2r * w2r - b2i * w2i;
      yIm[o + 2 * s] = b2r * w2i + b2i * w2r;
      const b3r = t1r - t3r,
        b3i = t1i - t3i;
      yRe[o + 3 * s] = b3r * w3r - b3i * w3i;
      yIm[o + 3 * s] = b3r * w3i + b3i * w3r;
    }
  }
}

const C1 = Math.cos((2 * Math.PI) / 5);
const C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5);
const S2 = Math.sin((4 * Math.PI) / 5);

function radix5(
  { m, stride: s, twRe, twIm }: Stage,
  xRe: Float64Array,
  xIm: Float64Array,
  yRe: Float64Array,
  yIm: Float64Array,
) {
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const b = p * 5;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const a0r = xRe[i0]!,
        a0i = xIm[i0]!;
      const a1r = xRe[i0 + sm]!,
        a1i = xIm[i0 + sm]!;
      const a2r = xRe[i0 + 2 * sm]!,
        a2i = xIm[i0 + 2 * sm]!;
      const a3r = xRe[i0 + 3 * sm]!,
        a3i = xIm[i0 + 3 * sm]!;
      const a4r = xRe[i0 + 4 * sm]!,
        a4i = xIm[i0 + 4 * sm]!;
      const s14r = a1r + a4r,
        s14i = a1i + a4i,
        d14r = a1r - a4r,
        d14i = a1i - a4i;
      const s23r = a2r + a3r,
        s23i = a2i + a3i,
        d23r = a2r - a3r,
        d23i = a2i - a3i;
      const m1r = a0r + C1 * s14r + C2 * s23r,
        m1i = a0i + C1 * s14i + C2 * s23i;
      const m2r = a0r + C2 * s14r + C1 * s23r,
        m2i = a0i + C2 * s14i + C1 * s23i;
      // forward transform: y_k = m_k - i (S·d) for k = 1, 2 and conjugate pairs for 3, 4
      const n1r = S1 * d14i + S2 * d23i,
        n1i = -(S1 * d14r + S2 * d23r);
      const n2r = S2 * d14i - S1 * d23i,
        n2i = -(S2 * d14r - S1 * d23r);
      const o = q + s * 5 * p;
      yRe[o] = a0r + s14r + s23r;
      yIm[o] = a0i + s14i + s23i;
      const w1 = b + 1;
      let vr = m1r + n1r,
        vi = m1i + n1i;
      yRe[o + s] = vr * twRe[w1]! - vi * twIm[w1]!;
      yIm[o + s] = vr * twIm[w1]! + vi * twRe[w1]!;
      vr = m2r + n2r;
      vi = m2i + n2i;
      yRe[o + 2 * s] = vr * twRe[w1 + 1]! - vi * twIm[w1 + 1]!;
      yIm[o + 2 * s] = vr * twIm[w1 + 1]! + vi * twRe[w1 + 1]!;
      vr = m2r - n2r;
      vi = m2i - n2i;
      yRe[o + 3 * s] = vr * twRe[w1 + 2]! - vi * twIm[w1 + 2]!;
      yIm[o + 3 * s] = vr * twIm[w1 + 2]! + vi * twRe[w1 + 2]!;
      vr = m1r - n1r;
      vi = m1i - n1i;
      yRe[o + 4 * s] = vr * twRe[w1 + 3]! - vi * twIm[w1 + 3]!;
      yIm[o + 4 * s] = vr * twIm[w1 + 3]! + vi * twRe[w1 + 3]!;
    }
  }
}

interface Stage {
  radix: number;
  m: number;
  stride: number;
  twRe: Float64Array;
  twIm: Float64Array;
  dftRe: Float64Array;
  dftIm: Float64Array;
}

/** Radices 4, 2, 3, 5, 7 (4 first: fewer stages); larger prime factors are refused. */
function factorize(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT size ${n} is not a positive integer`);
  const out: number[] = [];
  for (const r of [4, 2, 3, 5, 7])
    while (n % r === 0) {
      out.push(r);
      n /= r;
    }
  if (n !== 1) throw new RangeError(`FFT size has a prime factor above 7 (${n})`);
  return out;
}
