import type { Logger } from '../log.js';

export type Device = 'cpu' | 'cuda';

/** What every engine reports about itself once loaded (doctor, /ready, benchmarks). */
export interface EngineInfo {
  engine: string;
  model: string;
  /** The device actually in use (after any fallback). */
  device: Device;
  threads: number;
  loadMs: number;
  /** Set when the requested device could not be used. */
  fallbackReason?: string;
  /** Why this engine was chosen, when the config let the service choose (`llm.engine: auto`). */
  chosenBecause?: string;
}

export interface EngineLoadOptions {
  /** Explicit thread count (ggml and onnxruntime defaults oversubscribe small machines). */
  threads: number;
  device: Device;
  logger: Logger;
  signal?: AbortSignal;
}

/** The EngineInfo of an engine loaded since `startedAt` (performance.now()), after any fallback. */
export function loadedInfo(
  engine: string,
  model: string,
  options: EngineLoadOptions,
  device: Device,
  startedAt: number,
  fallbackReason?: string,
): EngineInfo {
  return {
    engine,
    model,
    device,
    threads: options.threads,
    loadMs: performance.now() - startedAt,
    ...(fallbackReason ? { fallbackReason } : {}),
  };
}
