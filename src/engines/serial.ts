/**
 * Runs jobs one after another: for engines whose native state serves one request at a time
 * (a whisper state, a llama.cpp context sequence, a Piper session's threads). A failed job does
 * not stop the next.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Jobs queued or running. */
  get size(): number {
    return this.waiting;
  }

  run<T>(job: () => T | Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(job).finally(() => this.waiting--);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every job queued so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
