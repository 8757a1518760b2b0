import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  /** SIMD extensions ggml uses, as the kernel reports them. */
  simd: string[];
  memoryGiB: number;
  node: string;
  gpu: string | null;
  /** Why `gpu` is null. */
  gpuReason?: string;
}

/** What the machine is, for doctor and benchmark reports. */
export async function machineInfo(): Promise<MachineInfo> {
  let flags: string[] = [];
  try {
    const line =
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('flags')) ?? '';
    flags = line.split(':')[1]?.trim().split(/\s+/) ?? [];
  } catch {
    // not Linux
  }
  const simd = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((f) =>
    flags.includes(f),
  );
  const gpu = await nvidiaGpu();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    simd,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    gpu: gpu.name,
    ...(gpu.reason ? { gpuReason: gpu.reason } : {}),
  };
}

function nvidiaGpu(): Promise<{ name: string | null; reason?: string }> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 5000 },
      (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          resolve({
            name: null,
            reason: code === 'ENOENT' ? 'nvidia-smi not found' : `nvidia-smi failed: ${err.message}`,
          });
          return;
        }
        const [name, mem] = stdout
          .trim()
          .split('\n')[0]!
          .split(',')
          .map((s) => s.trim());
        resolve({ name: `${name} (${Math.round(Number(mem) / 1024)} GiB)` });
      },
    );
  });
}
