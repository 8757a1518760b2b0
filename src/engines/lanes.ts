/** In priority order: a voice turn's transcript, a partial transcript while the user speaks, file work. */
export type Lane = 'live' | 'partial' | 'batch';
const RANK: Record<Lane, number> = { live: 0, partial: 1, batch: 2 };

/** What a running job is told: `onPreempt` is called when a job of a higher lane wants the engine. */
export interface LaneSlot {
  lane: Lane;
  onPreempt: (() => void) | undefined;
}

/**
 * One job at a time, by lane: a live voice turn never waits behind queued partials or file work,
 * and a running job of a lower lane is asked to step aside (`onPreempt`) when a higher one arrives
 * (a batch job is then run again with `run(..., { front: true })`; a partial is dropped). A failed
 * job does not stop the next.
 */
export class LaneQueue {
  private readonly waiting: Record<Lane, (() => void)[]> = { live: [], partial: [], batch: [] };
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
      else if (RANK[lane] < RANK[this.current.lane]) this.current.onPreempt?.();
    });
  }

  /** Settles once nothing runs and nothing waits. */
  drain(): Promise<void> {
    const waiting = this.waiting.live.length + this.waiting.partial.length + this.waiting.batch.length;
    if (!this.current && waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next() {
    if (this.current) return;
    const start = this.waiting.live.shift() ?? this.waiting.partial.shift() ?? this.waiting.batch.shift();
    if (start) return start();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
