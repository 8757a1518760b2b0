import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { GpuMonitor } from './gpu.js';

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

async function nvidiaGpu(): Promise<{ name: string | null; reason?: string }> {
  const read = await new GpuMonitor(0).read();
  if (read.gpus === null) return { name: null, reason: read.reason };
  return { name: read.gpus.map((g) => `${g.name} (${Math.round(g.memoryTotalMiB / 1024)} GiB)`).join(', ') };
}
