/** PCM sample conversions. Float samples are in [-1, 1]. */

export function int16ToFloat32(input: Int16Array): Float32Array {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = input[i]! / 32768;
  return out;
}

export function float32ToInt16(input: Float32Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const s = Math.max(-1, Math.min(1, input[i]!));
    out[i] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
  }
  return out;
}

/** Root-mean-square level of float samples in dBFS (-Infinity for silence or no samples). */
export function rmsDbfs(samples: Float32Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return 10 * Math.log10(sum / samples.length);
}

/**
 * Level of the loud part of a signal: the 95th percentile of 30 ms frame RMS levels, in dBFS.
 * Unlike a plain RMS it does not fall when speech is surrounded by silence.
 */
export function activeLevelDbfs(samples: Float32Array, sampleRate: number): number {
  const frame = Math.max(1, Math.round(sampleRate * 0.03));
  const levels: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame)
    levels.push(rmsDbfs(samples.subarray(i, i + frame)));
  if (levels.length === 0) return rmsDbfs(samples);
  levels.sort((a, b) => a - b);
  return levels[Math.min(levels.length - 1, Math.floor(levels.length * 0.95))]!;
}

/** The parts one after another in one array. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
