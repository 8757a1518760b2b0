import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GpuMonitor, parseNvidiaSmi } from './gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'voice-gpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GPU telemetry', () => {
  it('parses nvidia-smi csv lines, one per GPU, with [N/A] as null', () => {
    const gpus = parseNvidiaSmi(
      '0, NVIDIA H100 80GB HBM3, 37, 10240, 81559, 41\n1, NVIDIA GeForce RTX 4090, 0, 3, 24564, [N/A]\n',
    );
    expect(gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        utilizationPercent: 37,
        memoryUsedMiB: 10240,
        memoryTotalMiB: 81559,
        temperatureC: 41,
      },
      {
        index: 1,
        name: 'NVIDIA GeForce RTX 4090',
        utilizationPercent: 0,
        memoryUsedMiB: 3,
        memoryTotalMiB: 24564,
        temperatureC: null,
      },
    ]);
  });

  it('reports no GPU with the reason when the tool is missing or fails', async () => {
    expect(await new GpuMonitor(0, join(dir, 'absent-nvidia-smi')).read()).toEqual({
      gpus: null,
      reason: 'nvidia-smi not found (no NVIDIA driver on this machine)',
    });
    const failing = join(dir, 'failing-smi');
    writeFileSync(
      failing,
      '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2\nexit 9\n',
    );
    chmodSync(failing, 0o755);
    const read = await new GpuMonitor(0, failing).read();
    expect(read.gpus).toBeNull();
    expect(read.reason).toMatch(/^nvidia-smi failed/);
  });

  it('runs the tool it is given and reads its answer', async () => {
    const fake = join(dir, 'fake-smi');
    writeFileSync(fake, '#!/bin/sh\necho "0, Test GPU, 55, 1000, 8000, 60"\n');
    chmodSync(fake, 0o755);
    const read = await new GpuMonitor(0, fake).read();
    expect(read.gpus?.[0]?.utilizationPercent).toBe(55);
  });
});
