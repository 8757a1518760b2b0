import type { Logger } from '../log.js';
import type { Lane, LivePriority, QueueWait } from './lanes.js';
import type { LlmEngine } from './llm/types.js';
import type { SttEngine } from './stt/types.js';
import type { TtsEngine } from './tts/types.js';
import type { TurnEngine } from './turn/types.js';
import type { VadEngine } from './vad/types.js';

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

/**
 * An engine with a work queue: `admitBatch` throws `engine_busy` when its HTTP lane is full;
 * `useLivePriority` makes its batch work hold back while live work runs on any engine.
 */
export interface QueuedEngine {
  admitBatch(): void;
  useLivePriority?(priority: LivePriority): void;
}

/** Throws `engine_busy` when any of these engines has no room for one more HTTP job. */
export function admitBatch(...engines: object[]): void {
  for (const e of engines) (e as Partial<QueuedEngine>).admitBatch?.();
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

/**
 * The engines a voice session or request uses, loaded once for the whole service. `turn` is the
 * audio end-of-turn model; without it `semantic_vad` sessions run as `server_vad`, and
 * `turnUnavailable` says why.
 */
export interface EngineSet {
  vad: VadEngine;
  stt: SttEngine;
  llm: LlmEngine;
  /** Loaded voices by id; `defaultVoice` is one of them. */
  voices: Map<string, TtsEngine>;
  defaultVoice: string;
  turn?: TurnEngine;
  turnUnavailable?: string;
  /** The queues in front of the engines, by stage (supervised sets): their waits feed `/metrics`. */
  queues?: { stage: 'stt' | 'llm' | 'tts'; waits: Record<Lane, QueueWait> }[];
}
