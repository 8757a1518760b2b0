/** The service's own /metrics, read before and after a step (and sampled during it). */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export type Samples = ReturnType<typeof parsePrometheusTextFormat>;

export async function readMetrics(base: string): Promise<Samples> {
  return parsePrometheusTextFormat(await (await fetch(`${base}/metrics`)).text());
}

/** Sum of the samples of `name` whose labels include every `labels` pair (0 when there is none). */
export function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const family = samples.find((f) => f.name === name);
  let total = 0;
  for (const m of family?.metrics ?? [])
    if (Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) total += Number(m.value ?? 0);
  return total;
}

export interface StepUsage {
  /** Server process CPU over the step, in cores (2 = both cores of a 2-core machine busy). */
  cpuCores: number;
  /** Highest resident memory sampled, MiB. */
  rssMiB: number;
  /** Mean wait of the jobs that left each engine's queue during the step, ms. */
  queueWaitMs: Record<string, number>;
  /** Highest GPU utilisation (0–1) and memory in use (MiB) sampled; undefined without a GPU. */
  gpuUtilization?: number;
  gpuMemoryMiB?: number;
}

/**
 * Runs `work` while sampling /metrics every `everyMs`; returns the work's result with the server's
 * CPU, peak memory, per-engine queue wait and GPU use over it.
 */
export async function withUsage<T>(
  base: string,
  work: () => Promise<T>,
  everyMs = 500,
): Promise<{ value: T; usage: StepUsage }> {
  const before = await readMetrics(base);
  const t0 = performance.now();
  let rss = sum(before, 'voice_process_resident_memory_bytes');
  let gpuUtil: number | undefined;
  let gpuMem: number | undefined;
  const sample = (s: Samples) => {
    rss = Math.max(rss, sum(s, 'voice_process_resident_memory_bytes'));
    if (s.some((f) => f.name === 'voice_gpu_utilization_ratio' && f.metrics.length > 0)) {
      gpuUtil = Math.max(gpuUtil ?? 0, sum(s, 'voice_gpu_utilization_ratio'));
      gpuMem = Math.max(gpuMem ?? 0, sum(s, 'voice_gpu_memory_used_bytes') / 2 ** 20);
    }
  };
  sample(before);
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (polling) sample(await readMetrics(base).catch((): Samples => []));
    }
  })();
  let value: T;
  try {
    value = await work();
  } finally {
    polling = false;
    await poller;
  }
  const after = await readMetrics(base);
  sample(after);
  const wallSec = (performance.now() - t0) / 1000;
  const delta = (name: string, labels: Record<string, string> = {}) =>
    sum(after, name, labels) - sum(before, name, labels);
  const queueWaitMs: Record<string, number> = {};
  for (const stage of ['stt', 'llm', 'tts']) {
    const jobs = delta('voice_engine_queue_jobs_total', { stage });
    if (jobs > 0)
      queueWaitMs[stage] = (delta('voice_engine_queue_wait_seconds_total', { stage }) / jobs) * 1000;
  }
  return {
    value,
    usage: {
      cpuCores: delta('voice_process_cpu_seconds_total') / wallSec,
      rssMiB: rss / 2 ** 20,
      queueWaitMs,
      ...(gpuUtil !== undefined ? { gpuUtilization: gpuUtil, gpuMemoryMiB: gpuMem } : {}),
    },
  };
}
