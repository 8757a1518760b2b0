import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createOrtSession } from '../src/engines/onnx.js';
import { silentLogger } from '../src/log.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';

/** GPU paths are chosen by config and fall back to CPU with one logged warning (no CUDA here). */
describe('onnxruntime engines (Silero VAD, Piper, Smart Turn) on device cuda', () => {
  it('fall back to the CPU with one warning naming the engine, and say so in their info', async () => {
    requireSharedAssets();
    const logger = silentLogger.child({});
    const warn = vi.spyOn(logger, 'warn');
    const { session, info } = await createOrtSession(join(MODELS_DIR, 'silero_vad.onnx'), 'piper', 'm', {
      threads: 1,
      device: 'cuda',
      logger,
    });
    expect(info.device).toBe('cpu');
    expect(info.fallbackReason).toMatch(/^CUDA execution provider unavailable: /);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toBe('piper falls back to CPU');
    await session.release();
  });
});
