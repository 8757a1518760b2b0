import { execFile } from 'node:child_process';

/** One GPU as `nvidia-smi` reports it. */
export interface GpuStats {
  index: number;
  name: string;
  /** Percent of time a kernel ran over the last sample period. */
  utilizationPercent: number;
  memoryUsedMiB: number;
  memoryTotalMiB: number;
  temperatureC: number | null;
}

export type GpuTelemetry = { gpus: GpuStats[]; reason?: undefined } | { gpus: null; reason: string };

const FIELDS = 'index,name,utilization.gpu,memory.used,memory.total,temperature.gpu';

/** Parses `nvidia-smi --query-gpu=<FIELDS> --format=csv,noheader,nounits` output. */
export function parseNvidiaSmi(stdout: string): GpuStats[] {
  const num = (s: string | undefined) => {
    const n = Number(s);
    return s === undefined || s === '' || Number.isNaN(n) ? null : n;
  };
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const cells = line.split(',').map((c) => c.trim());
      if (cells.length < 5) throw new Error(`unexpected nvidia-smi line: ${line}`);
      const [index, name, util, used, total, temp] = cells;
      return {
        index: num(index) ?? 0,
        name: name!,
        utilizationPercent: num(util) ?? 0,
        memoryUsedMiB: num(used) ?? 0,
        memoryTotalMiB: num(total) ?? 0,
        temperatureC: num(temp),
      };
    });
}

/**
 * GPU telemetry from `nvidia-smi` (no GPU, no driver or a failing tool → `gpus: null` with the
 * reason). Readings are cached for `maxAgeMs` so that scrapes and /ready do not fork every time.
 */
export class GpuMonitor {
  private last: { at: number; value: GpuTelemetry } | undefined;
  private pending: Promise<GpuTelemetry> | undefined;

  constructor(
    private readonly maxAgeMs = 2000,
    private readonly command = 'nvidia-smi',
  ) {}

  read(): Promise<GpuTelemetry> {
    if (this.last && performance.now() - this.last.at < this.maxAgeMs)
      return Promise.resolve(this.last.value);
    this.pending ??= query(this.command).then((value) => {
      this.last = { at: performance.now(), value };
      this.pending = undefined;
      return value;
    });
    return this.pending;
  }
}

function query(command: string): Promise<GpuTelemetry> {
  return new Promise((resolve) => {
    execFile(
      command,
      [`--query-gpu=${FIELDS}`, '--format=csv,noheader,nounits'],
      { timeout: 3000 },
      (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const reason =
            code === 'ENOENT'
              ? 'nvidia-smi not found (no NVIDIA driver on this machine)'
              : `nvidia-smi failed: ${err.message.split('\n')[0]}`;
          resolve({ gpus: null, reason });
          return;
        }
        try {
          const gpus = parseNvidiaSmi(stdout);
          resolve(gpus.length > 0 ? { gpus } : { gpus: null, reason: 'nvidia-smi lists no GPU' });
        } catch (e) {
          resolve({ gpus: null, reason: (e as Error).message });
        }
      },
    );
  });
}
