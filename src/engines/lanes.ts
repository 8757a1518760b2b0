import { abortReason, VoiceError } from '../errors.js';

/** In priority order: a voice turn's transcript, a partial transcript while the user speaks, file work. */
export type Lane = 'live' | 'partial' | 'batch';
const RANK: Record<Lane, number> = { live: 0, partial: 1, batch: 2 };
const LANES: Lane[] = ['live', 'partial', 'batch'];

/** What a running job is told: `onPreempt` is called when a job of a higher lane wants the engine. */
export interface LaneSlot {
  lane: Lane;
  onPreempt: (() => void) | undefined;
}

export interface LaneQueueOptions {
  /** Jobs run at once (1: an engine whose native state serves one request at a time). */
  capacity?: number;
  /**
   * Batch jobs that may wait before `admitBatch` refuses one more with `engine_busy` (live work is
   * never refused). Checked when a request is admitted, not per job: a long file's later windows
   * are never refused once it started.
   */
  maxBatchWaiting?: number;
  /** Names the engine in the `engine_busy` message. */
  name?: string;
  /** Shared by the engines of one service: batch work holds back while live work runs anywhere. */
  livePriority?: LivePriority;
}

/**
 * Voice turns first across engines, not only within one queue: while a live job runs on any engine
 * (a turn's transcript, its answer, a sentence of it), no batch job (HTTP work) starts on any,
 * and running ones that can step aside are asked to (a file transcription); batch work resumes
 * once live work has been idle for `resumeAfterMs`, which bridges the gaps between a turn's stages.
 * On a small CPU the cores then go to the voice turn instead of being shared with HTTP work.
 */
export class LivePriority {
  private active = 0;
  /**
   * Batch work may start: no live work ran yet, or its resume timer fired. A flag rather than a
   * clock check, since a timer can fire a little before `performance.now()` says its delay has
   * passed (libuv starts it from the loop's cached time), and a check then would hold batch work
   * until the next live job, possibly for ever.
   */
  private resumed = true;
  private readonly queues = new Set<LaneQueue>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly resumeAfterMs = 300) {}

  register(queue: LaneQueue): void {
    this.queues.add(queue);
  }

  /** Whether a batch job may start now. */
  batchMayStart(): boolean {
    return this.active === 0 && this.resumed;
  }

  liveStarted(): void {
    this.active++;
    this.resumed = false;
    clearTimeout(this.timer);
    for (const q of this.queues) q.preemptBatch();
  }

  liveEnded(): void {
    this.active--;
    if (this.active > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.resumed = true;
      for (const q of this.queues) q.resume();
    }, this.resumeAfterMs);
    this.timer.unref();
  }
}

export interface RunOptions {
  /** First of its lane (a preempted job run again). */
  front?: boolean;
  /** Aborting while the job waits takes it out of the queue and rejects with the reason. */
  signal?: AbortSignal | undefined;
  /** Called when the job has to wait (no free slot): a wait limit applies until `onStart`. */
  onQueued?: (() => void) | undefined;
  /** Called when the job leaves the queue: time limits of the work start here, not at the call. */
  onStart?: (() => void) | undefined;
}

interface Waiting {
  start: () => void;
}

export interface QueueWait {
  jobs: number;
  ms: number;
}

/**
 * Jobs by lane: a live voice turn never waits behind queued partials or HTTP work, and a running
 * job of a lower lane is asked to step aside (`onPreempt`) when a higher one arrives and no slot
 * is free (a batch job is then run again with `front: true`; a partial is dropped). HTTP requests
 * are admitted while the batch lane is short enough (`engine_busy` otherwise, which HTTP answers
 * with 503 and `Retry-After`). A failed job does not stop the next.
 */
export class LaneQueue {
  /** Jobs started per lane and the time they waited for a slot, since start-up (`/metrics`). */
  readonly waits: Record<Lane, QueueWait> = {
    live: { jobs: 0, ms: 0 },
    partial: { jobs: 0, ms: 0 },
    batch: { jobs: 0, ms: 0 },
  };
  private readonly waiting: Record<Lane, Waiting[]> = { live: [], partial: [], batch: [] };
  private readonly running = new Set<LaneSlot>();
  private idleWaiters: (() => void)[] = [];
  private readonly capacity: number;

  constructor(private readonly options: LaneQueueOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 1);
    options.livePriority?.register(this);
  }

  /** Joins the service's cross-engine live priority (an engine made before the others). */
  useLivePriority(priority: LivePriority): void {
    this.options.livePriority = priority;
    priority.register(this);
  }

  /** Asks running batch jobs to step aside (live work started on some engine). */
  preemptBatch(): void {
    for (const slot of this.running) if (slot.lane === 'batch') slot.onPreempt?.();
  }

  /** Starts what may start now (live work has gone idle). */
  resume(): void {
    this.next();
  }

  /** Jobs waiting in a lane. */
  waitingIn(lane: Lane): number {
    return this.waiting[lane].length;
  }

  /** Throws `engine_busy` when the batch lane is full: an HTTP route checks before it starts work. */
  admitBatch(): void {
    const max = this.options.maxBatchWaiting;
    if (max === undefined || this.waiting.batch.length < max) return;
    throw new VoiceError(
      'engine_busy',
      `${this.options.name ?? 'the engine'} already has ${this.waiting.batch.length} requests waiting; retry later`,
    );
  }

  run<T>(lane: Lane, job: (slot: LaneSlot) => Promise<T>, options: RunOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = () => {
        const list = this.waiting[lane];
        const at = list.indexOf(entry);
        if (at >= 0) list.splice(at, 1);
        reject(abortReason(signal!));
        this.settleIdle();
      };
      const queuedAt = performance.now();
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.waits[lane].jobs++;
          this.waits[lane].ms += performance.now() - queuedAt;
          const slot: LaneSlot = { lane, onPreempt: undefined };
          this.running.add(slot);
          const live = lane === 'live' && this.options.livePriority;
          if (live) live.liveStarted();
          let work: Promise<T>;
          try {
            options.onStart?.();
            work = job(slot);
          } catch (err) {
            work = Promise.reject(err instanceof Error ? err : new Error(String(err)));
          }
          work.then(resolve, reject).finally(() => {
            this.running.delete(slot);
            if (live) live.liveEnded();
            this.next();
          });
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.front) this.waiting[lane].unshift(entry);
      else this.waiting[lane].push(entry);
      if (this.running.size < this.capacity) this.next();
      if (!this.waiting[lane].includes(entry)) return;
      options.onQueued?.();
      for (const slot of this.running) if (RANK[lane] < RANK[slot.lane]) slot.onPreempt?.();
    });
  }

  /**
   * Holds a slot until the returned release is called: for work that is not one promise (a
   * streamed LLM answer holds the engine until its last token).
   */
  async acquire(lane: Lane, options: RunOptions = {}): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await new Promise<void>((granted, refused) => {
      this.run(
        lane,
        () => {
          granted();
          return held;
        },
        options,
      ).catch(refused);
    });
    return release;
  }

  /** Nothing runs and nothing waits. */
  get isIdle(): boolean {
    return this.idle();
  }

  /** Settles once nothing runs and nothing waits. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.running.size === 0 && LANES.every((l) => this.waiting[l].length === 0);
  }

  private next() {
    while (this.running.size < this.capacity) {
      const batchMayStart = this.options.livePriority?.batchMayStart() ?? true;
      const entry =
        this.waiting.live.shift() ??
        this.waiting.partial.shift() ??
        (batchMayStart ? this.waiting.batch.shift() : undefined);
      if (!entry) break;
      entry.start();
    }
    this.settleIdle();
  }

  private settleIdle() {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
