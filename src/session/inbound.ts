import type { Config } from '../config.js';
import type { ErrorCode } from '../errors.js';
import { MessageRateLimiter } from './rate-limiter.js';

export type Admission =
  { ok: true; release: () => void } | { ok: false; code: ErrorCode; message: string; close: boolean };

/**
 * What a session checks of each WebSocket message before queueing it: the message rate (counted
 * before the size, so oversized messages cannot flood past it), the frame size, and the bytes
 * already waiting. A refused message gets an error; too much waiting closes the session. Nothing
 * received for `idleTimeoutMs` calls `onIdle`.
 */
export class InboundLimits {
  private readonly rate: MessageRateLimiter;
  private pendingBytes = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly limits: Config['realtime'],
    private readonly onIdle: (ms: number) => void,
  ) {
    this.rate = new MessageRateLimiter(limits.maxMessagesPerSec);
    this.touch();
  }

  /** No more idle time-out (the session ended). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.idleTimer);
  }

  admit(data: Buffer | string): Admission {
    this.touch();
    const { maxFrameBytes, maxMessagesPerSec, maxPendingBytes } = this.limits;
    if (!this.rate.take())
      return {
        ok: false,
        code: 'rate_limited',
        message: `more than ${maxMessagesPerSec} messages per second`,
        close: false,
      };
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (size > maxFrameBytes)
      return {
        ok: false,
        code: 'frame_too_large',
        message: `message of ${size} bytes; the limit is ${maxFrameBytes}`,
        close: false,
      };
    if (this.pendingBytes + size > maxPendingBytes)
      return {
        ok: false,
        code: 'inbox_full',
        message: `more than ${maxPendingBytes} bytes of messages wait to be handled: send audio at most in real time`,
        close: true,
      };
    this.pendingBytes += size;
    return { ok: true, release: () => (this.pendingBytes -= size) };
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.stopped) return;
    const ms = this.limits.idleTimeoutMs;
    this.idleTimer = setTimeout(() => this.onIdle(ms), ms);
    this.idleTimer.unref();
  }
}
