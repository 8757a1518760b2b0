import { VoiceError } from '../errors.js';
import type { EngineInfo } from '../engines/types.js';

export const STAGES = ['vad', 'stt', 'llm', 'tts'] as const;
/** Engines the service can serve without: their failure is reported with the fallback in use. */
export const OPTIONAL_STAGES = ['turn'] as const;
export type Stage = (typeof STAGES)[number] | (typeof OPTIONAL_STAGES)[number];

export interface EngineStatus {
  /** `stuck` and `failing`: loaded, but unwell while serving (see `unwell`). */
  state: 'pending' | 'loading' | 'warming' | 'ready' | 'failed' | 'stuck' | 'failing';
  /** Why the engine is `stuck` or `failing`; while `loading` on a first run, its model's download. */
  reason?: string;
  engine?: string;
  model?: string;
  device?: string;
  threads?: number;
  loadMs?: number;
  /** Time of the warm-up run (the first inference, paid at start-up instead of by a user). */
  warmMs?: number;
  fallbackReason?: string;
  /** What the service does without this (optional) engine. */
  fallback?: string;
  /** The last failure of this engine, at start-up or while serving. */
  lastError?: { code: string; message: string; at: string };
}

/**
 * What /ready reports: per engine, its state, model, device, load and warm-up times and last
 * error. The service is ready once every required engine is loaded and warmed; an optional one
 * (`turn`, the end-of-turn model) that failed says what is used instead.
 */
export class Readiness {
  readonly engines: Record<Stage, EngineStatus> = {
    vad: { state: 'pending' },
    stt: { state: 'pending' },
    llm: { state: 'pending' },
    tts: { state: 'pending' },
    turn: { state: 'pending' },
  };
  private startedAt = performance.now();
  /** Milliseconds from the start of loading to ready. */
  readyAfterMs: number | undefined;

  /** Every required engine loaded, warmed and well: what /ready reports. */
  get ready(): boolean {
    return STAGES.every((s) => this.engines[s].state === 'ready');
  }

  /**
   * Every required engine loaded and warmed, well or not: requests are served (a stuck or failing
   * engine answers with its own errors; /ready takes the instance out of a load balancer).
   */
  get serving(): boolean {
    return STAGES.every((s) => ['ready', 'stuck', 'failing'].includes(this.engines[s].state));
  }

  loading(stage: Stage): void {
    this.engines[stage].state = 'loading';
  }

  /** Its model is being downloaded (first run): `detail` says which file and how far. */
  downloading(stage: Stage, detail: string): void {
    this.engines[stage].state = 'loading';
    this.engines[stage].reason = detail;
  }

  loaded(stage: Stage, info: EngineInfo): void {
    delete this.engines[stage].reason;
    Object.assign(this.engines[stage], {
      state: 'warming',
      engine: info.engine,
      model: info.model,
      device: info.device,
      threads: info.threads,
      loadMs: round(info.loadMs),
      ...(info.fallbackReason ? { fallbackReason: info.fallbackReason } : {}),
    });
  }

  warmed(stage: Stage, warmMs: number): void {
    this.engines[stage].state = 'ready';
    this.engines[stage].warmMs = round(warmMs);
    if (this.ready) this.readyAfterMs = round(performance.now() - this.startedAt);
  }

  failed(stage: Stage, err: unknown, fallback?: string): void {
    this.engines[stage].state = 'failed';
    delete this.engines[stage].reason;
    if (fallback) this.engines[stage].fallback = fallback;
    this.error(stage, err);
  }

  /**
   * A loaded engine that stopped serving well: a job that does not stop (`stuck`) or failures in a
   * row (`failing`). The service is not ready until it `recovered`.
   */
  unwell(stage: Stage, state: 'stuck' | 'failing', reason: string): void {
    this.engines[stage].state = state;
    this.engines[stage].reason = reason;
  }

  recovered(stage: Stage): void {
    this.engines[stage].state = 'ready';
    delete this.engines[stage].reason;
  }

  /** Records a failure of an engine while serving; it stays ready (the next request may succeed). */
  error(stage: Stage, err: unknown): void {
    const code = err instanceof VoiceError ? err.code : 'engine_failed';
    const message = err instanceof Error ? err.message : String(err);
    this.engines[stage].lastError = { code, message, at: new Date().toISOString() };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
