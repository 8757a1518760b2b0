import { VoiceError } from '../errors.js';

/** One piece of work the server lets finish on shutdown: its signal aborts at the deadline. */
export interface DrainJob {
  readonly signal: AbortSignal;
  end(): void;
}

/**
 * In-flight work (HTTP answers being streamed) and the shutdown that waits for it: once draining,
 * new work is refused (`shutting_down`); what runs gets until the deadline, then is aborted.
 */
export class Drain {
  private readonly jobs = new Set<AbortController>();
  private waiters: (() => void)[] = [];
  draining = false;

  get active(): number {
    return this.jobs.size;
  }

  begin(): DrainJob {
    if (this.draining)
      throw new VoiceError('shutting_down', 'the server is shutting down; retry on another instance');
    const controller = new AbortController();
    this.jobs.add(controller);
    return {
      signal: controller.signal,
      end: () => {
        if (!this.jobs.delete(controller) || this.jobs.size > 0) return;
        for (const wake of this.waiters.splice(0)) wake();
      },
    };
  }

  /**
   * Stops taking work and waits for the running jobs (and `others`, e.g. real-time answers) up to
   * `deadlineMs`; then aborts what still runs. Resolves with how many were cut.
   */
  async shutdown(deadlineMs: number, others: Promise<unknown> = Promise.resolve()): Promise<number> {
    this.draining = true;
    const idle = new Promise<void>((resolve) =>
      this.jobs.size === 0 ? resolve() : this.waiters.push(resolve),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([Promise.all([idle, others.catch(() => undefined)]), deadline]);
    clearTimeout(timer);
    const cut = this.jobs.size;
    for (const job of this.jobs)
      job.abort(new VoiceError('shutting_down', 'the server shut down before the answer ended'));
    return cut;
  }
}
