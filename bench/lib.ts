import { fork } from 'node:child_process';
import { machineInfo } from '../src/metrics/machine.js';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function machineLine(threads: string): Promise<string> {
  const m = await machineInfo();
  return `machine: ${m.cpu}, ${m.cores} cores (${m.simd.join(' ')}), ${m.memoryGiB} GiB, node ${m.node}, gpu: ${m.gpu ?? `none (${m.gpuReason})`}; threads: ${threads}`;
}

export const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/**
 * A benchmark client in its own process (its clock and socket reads not held up by the caller's
 * work): runs `script` with `args` and resolves with the one message it sends back.
 */
export function runClient<T>(script: URL, args: string[]): Promise<T> {
  const child = fork(script, args);
  return new Promise<T>((resolve, reject) => {
    let result: T | undefined;
    child.on('message', (message) => (result = message as T));
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`${script.pathname} exited with ${code}`)),
    );
  });
}
