import { VoiceError } from '../errors.js';

/**
 * An abort signal for one stage: it follows the response's signal, and aborts with a `timeout`
 * VoiceError naming the stage when `arm`ed and not re-armed or disarmed within `ms`.
 */
export class StageTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = () => this.controller.abort(this.parent.reason);

  constructor(
    private readonly parent: AbortSignal,
    private readonly ms: number,
  ) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** (Re)starts the clock: `ms` for this step when it is not the stage's own limit (a queue wait). */
  arm(what: string, ms = this.ms): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.controller.abort(new VoiceError('timeout', `${what} took longer than ${ms} ms`)),
      ms,
    );
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer and stops following the parent. */
  dispose(): void {
    this.disarm();
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
