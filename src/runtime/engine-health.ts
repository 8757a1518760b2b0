import type { JobTicket, JobWatch } from '../engines/scheduled.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Readiness, Stage } from './readiness.js';

export interface HealthOptions {
  /** A job still running this long after its signal aborted is stuck. */
  stuckAfterMs: number;
  /** Failures in a row that mark the engine failing. */
  maxConsecutiveFailures: number;
}

/** Errors that say the engine is unwell; a cancelled job or bad input says nothing about it. */
function isEngineFailure(err: unknown): boolean {
  if (err === undefined) return false;
  if (err instanceof VoiceError) return err.code === 'engine_failed' || err.code === 'timeout';
  return !(err instanceof Error && err.name === 'AbortError');
}

/**
 * Watches one engine's jobs and tells the readiness report when it is unwell: `stuck` while a job
 * has not stopped `stuckAfterMs` after it was cancelled or timed out (a native call that never
 * returns), `failing` after `maxConsecutiveFailures` errors in a row. Either turns `/ready` to 503
 * with the engine named; the engine is ready again when the stuck job ends or a job succeeds.
 */
export class EngineHealth implements JobWatch {
  private stuckJobs = 0;
  private failures = 0;
  private lastFailure = '';

  constructor(
    private readonly stage: Stage,
    private readonly readiness: Readiness,
    private readonly options: HealthOptions,
    private readonly logger: Logger,
  ) {}

  begin(signal: AbortSignal | undefined): JobTicket {
    let timer: NodeJS.Timeout | undefined;
    let stuck = false;
    let ended = false;
    const onAbort = () => {
      timer = setTimeout(() => {
        stuck = true;
        this.stuckJobs++;
        this.update();
      }, this.options.stuckAfterMs);
      timer.unref();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return {
      end: (error) => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (stuck) this.stuckJobs--;
        // A job its caller stopped (barge-in, client gone) ends with the caller's reason.
        const failed = isEngineFailure(error) || (signal?.aborted && isEngineFailure(signal.reason));
        if (failed) {
          const cause: unknown = error ?? signal?.reason;
          this.failures++;
          this.lastFailure = cause instanceof Error ? cause.message : String(cause);
          this.readiness.error(this.stage, cause);
        } else if (error === undefined) this.failures = 0;
        this.update();
      },
    };
  }

  private update() {
    const state =
      this.stuckJobs > 0
        ? 'stuck'
        : this.failures >= this.options.maxConsecutiveFailures
          ? 'failing'
          : undefined;
    const reason =
      state === 'stuck'
        ? `${this.stuckJobs} job(s) still running ${this.options.stuckAfterMs} ms after being cancelled`
        : `${this.failures} failures in a row, the last: ${this.lastFailure}`;
    const was = this.readiness.engines[this.stage].state;
    if (state === undefined) {
      if (was === 'stuck' || was === 'failing') {
        this.readiness.recovered(this.stage);
        this.logger.info({ stage: this.stage }, 'engine recovered');
      }
      return;
    }
    if (was === state) return;
    this.readiness.unwell(this.stage, state, reason);
    this.logger.error({ stage: this.stage, state, reason }, 'engine unwell: /ready reports it');
  }
}
