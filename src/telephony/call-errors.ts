import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * Bad input on a call: each error is counted; it is logged (code and message, never the payload)
 * at most once a second per code, so that a carrier sending garbage cannot flood the log.
 */
export class CallErrors {
  private readonly lastLogged = new Map<ErrorCode, number>();
  private readonly suppressed = new Map<ErrorCode, number>();

  constructor(
    private readonly log: Logger,
    private readonly count: (code: ErrorCode) => void,
  ) {}

  report(code: ErrorCode, message: string): void {
    this.count(code);
    const now = performance.now();
    if (now - (this.lastLogged.get(code) ?? -Infinity) < 1000) {
      this.suppressed.set(code, (this.suppressed.get(code) ?? 0) + 1);
      return;
    }
    this.lastLogged.set(code, now);
    const more = this.suppressed.get(code) ?? 0;
    this.suppressed.delete(code);
    this.log.warn({ code, message, ...(more > 0 ? { suppressed: more } : {}) }, 'bad input on a call');
  }
}
