export type Lane = 'live' | 'batch';

/** What a running job is told: `preempted` is called when a live job wants the engine. */
export interface LaneSlot {
  lane: Lane;
  onPreempt: (() => void) | undefined;
}

/**
 * One job at a time, live jobs first: a live voice turn never waits behind queued file work, and a
 * running batch job is asked to step aside (`onPreempt`) when a live job arrives; it is then run
 * again with `run(..., { front: true })`. A failed job does not stop the next.
 */
export class LaneQueue {
  private readonly waiting: Record<Lane, (() => void)[]> = { live: [], batch: [] };
  private current: LaneSlot | undefined;
  private idleWaiters: (() => void)[] = [];

  run<T>(lane: Lane, job: (slot: LaneSlot) => Promise<T>, { front = false } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        const slot: LaneSlot = { lane, onPreempt: undefined };
        this.current = slot;
        job(slot)
          .then(resolve, reject)
          .finally(() => {
            this.current = undefined;
            this.next();
          });
      };
      if (front) this.waiting[lane].unshift(start);
      else this.waiting[lane].push(start);
      if (!this.current) this.next();
      else if (lane === 'live' && this.current.lane === 'batch') this.current.onPreempt?.();
    });
  }

  /** Settles once nothing runs and nothing waits. */
  drain(): Promise<void> {
    if (!this.current && this.waiting.live.length + this.waiting.batch.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next() {
    if (this.current) return;
    const start = this.waiting.live.shift() ?? this.waiting.batch.shift();
    if (start) return start();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
