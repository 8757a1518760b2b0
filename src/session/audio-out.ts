export interface AudioSegment {
  bytes: Uint8Array;
  /** Called just before the segment's first byte is sent (transcript deltas go out with their audio). */
  onStart?: () => void;
}

export interface PacedAudioOptions {
  bytesPerSec: number;
  /** Bytes per sample frame (2 for PCM16, 1 for G.711): chunks never split a sample. */
  bytesPerSample: number;
  chunkMs: number;
  /** How far ahead of the client's playback audio is sent. */
  leadMs: number;
  send: (chunk: Uint8Array) => void;
  /**
   * Milliseconds of audio handed to the transport but not yet written to the network (a slow
   * reader): the pacer waits while it is above `leadMs`, and that audio is not counted as heard.
   */
  backlogMs?: () => number;
  now?: () => number;
}

/** How often a pacer held back by the transport's backlog looks again. */
const BACKLOG_POLL_MS = 20;

/**
 * Sends audio paced to real time, `leadMs` ahead of the client's playback, so that a barge-in
 * never leaves seconds of stale audio queued at the client. It also models the client's playhead:
 * playback starts when audio arrives and stalls when the client runs dry, which is how much of
 * the answer the user heard is estimated when the client does not say (no `truncate`). A reader
 * slower than real time holds the pacer back (`backlogMs`), so audio does not pile up in memory.
 */
export class PacedAudioOut {
  private readonly queue: AudioSegment[] = [];
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the client's buffered audio runs out (ms on `now`). */
  private bufferEnd = 0;
  private sentBytes = 0;
  private waiters: (() => void)[] = [];
  private stopped = false;
  private readonly chunkBytes: number;
  private readonly now: () => number;

  constructor(private readonly o: PacedAudioOptions) {
    this.now = o.now ?? (() => performance.now());
    const raw = Math.round((o.bytesPerSec * o.chunkMs) / 1000);
    this.chunkBytes = Math.max(o.bytesPerSample, raw - (raw % o.bytesPerSample));
  }

  enqueue(segment: AudioSegment): void {
    if (this.stopped || segment.bytes.length === 0) return;
    this.queue.push(segment);
    if (this.timer === undefined) this.pump();
  }

  /** Milliseconds of audio sent so far. */
  get sentMs(): number {
    return (this.sentBytes * 1000) / this.o.bytesPerSec;
  }

  /**
   * Estimated milliseconds the client has played by now: not what the client's modelled buffer
   * still holds, nor what is still stuck in the transport, whichever is more.
   */
  playedMs(): number {
    const unplayed = Math.max(0, this.bufferEnd - this.now(), this.o.backlogMs?.() ?? 0);
    return Math.max(0, this.sentMs - unplayed);
  }

  /** Resolves once everything enqueued so far has been sent (or the output was stopped). */
  drained(): Promise<void> {
    if (this.queue.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops what is not sent yet; returns the estimated milliseconds the client played. */
  stop(): number {
    this.stopped = true;
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
    return this.playedMs();
  }

  private release() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private pump = (): void => {
    this.timer = undefined;
    while (this.queue.length > 0 && !this.stopped) {
      const now = this.now();
      if ((this.o.backlogMs?.() ?? 0) > this.o.leadMs) {
        this.timer = setTimeout(this.pump, BACKLOG_POLL_MS);
        return;
      }
      const ahead = this.bufferEnd - now;
      if (ahead > this.o.leadMs) {
        this.timer = setTimeout(this.pump, Math.max(1, ahead - this.o.leadMs));
        return;
      }
      const segment = this.queue[0]!;
      if (this.offset === 0) segment.onStart?.();
      const chunk = segment.bytes.subarray(this.offset, this.offset + this.chunkBytes);
      this.offset += chunk.length;
      if (this.offset >= segment.bytes.length) {
        this.queue.shift();
        this.offset = 0;
      }
      this.sentBytes += chunk.length;
      this.bufferEnd = Math.max(this.bufferEnd, now) + (chunk.length * 1000) / this.o.bytesPerSec;
      this.o.send(chunk);
    }
    if (this.queue.length === 0) this.release();
  };
}
