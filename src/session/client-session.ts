import type { Config } from '../config.js';
import { SerialQueue } from '../engines/serial.js';
import { VoiceError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { CLOSE_POLICY_VIOLATION } from '../protocol/close-codes.js';
import { ClientEventError, parseClientEvent, type ClientEvent } from '../protocol/client-events.js';
import { serverEvent } from '../protocol/server-events.js';
import type { TurnMetrics } from '../metrics/registry.js';
import { InboundLimits } from './inbound.js';
import type { SessionTransport } from './session.js';

/**
 * What every real-time session does with its client's socket, whichever backend answers: each
 * message is checked (rate, size, backlog, idle time), queued, and handled in arrival order (audio
 * before its commit); a bad one gets an `error` and the session goes on. After `close`, messages
 * still queued go to `reroute` (the backend that took the session over), in order.
 */
export abstract class ClientSession {
  abstract readonly id: string;
  abstract readonly log: Logger;
  /** Client events are handled one after another, in arrival order. */
  protected readonly inbox = new SerialQueue();
  protected closed = false;
  private readonly inbound: InboundLimits;

  constructor(
    config: Config,
    protected readonly transport: SessionTransport,
    private readonly reroute?: (data: Buffer | string, isBinary: boolean) => void,
    private readonly metrics?: Pick<TurnMetrics, 'error'>,
  ) {
    this.inbound = new InboundLimits(config.realtime, (ms) =>
      this.closeWithError(
        'idle_timeout',
        `nothing received for ${ms} ms; closing the session`,
        1000,
        'idle timeout',
      ),
    );
  }

  /** A WebSocket message: a JSON text event, or binary audio when the session enabled it. */
  receive(data: Buffer | string, isBinary: boolean): Promise<void> {
    const arrivedAt = performance.now();
    const admitted = this.inbound.admit(data);
    if (!admitted.ok) {
      if (admitted.close)
        this.closeWithError(admitted.code, admitted.message, CLOSE_POLICY_VIOLATION, admitted.code);
      else this.error(admitted.code, admitted.message);
      return Promise.resolve();
    }
    return this.inbox.run(async () => {
      admitted.release();
      if (this.closed) return void this.reroute?.(data, isBinary);
      let eventId: string | undefined;
      try {
        if (isBinary) {
          if (!this.binaryAudio)
            throw new ClientEventError(
              'binary_audio_disabled',
              'send audio as input_audio_buffer.append, or enable binary_audio in session.update',
            );
          await this.onAudio(typeof data === 'string' ? Buffer.from(data) : data, arrivedAt);
        } else {
          const event = parseClientEvent(data.toString());
          eventId = event.event_id;
          await this.onEvent(event, arrivedAt);
        }
      } catch (err) {
        this.reportError(err, eventId);
      }
      this.afterMessage();
    });
  }

  /** The server ends the session for a reason the client must know: an `error` event, then `closeCode`. */
  closeWithError(code: ErrorCode, message: string, closeCode: number, reason: string): void {
    if (this.closed) return;
    this.error(code, message);
    this.end(closeCode, reason);
  }

  /** The server closes the session (shutdown): the client gets `code`. */
  end(code: number, reason: string): void {
    this.transport.close(code, reason);
    this.close();
  }

  /** The client went away, or another backend took the session over. */
  abstract close(): void;

  /** Whether binary frames are audio (`binary_audio`). */
  protected abstract get binaryAudio(): boolean;
  protected abstract onAudio(bytes: Uint8Array, arrivedAt: number): Promise<void> | void;
  protected abstract onEvent(event: ClientEvent, arrivedAt: number): Promise<void> | void;

  /** An `error` event to the client (the same name in both dialects), counted. */
  protected error(
    code: ErrorCode,
    message: string,
    eventId?: string,
    param?: string,
    type = 'invalid_request_error',
  ): void {
    if (this.closed) return;
    this.metrics?.error('realtime', code);
    this.transport.sendJson(
      serverEvent('error', {
        error: { type, code, message, param: param ?? null, event_id: eventId ?? null },
      }),
    );
  }

  /** After each message (saving what changed). */
  protected afterMessage(): void {}

  /** No more idle time-out: for `close`. */
  protected stopInbound(): void {
    this.inbound.stop();
  }

  protected reportError(err: unknown, eventId: string | undefined): void {
    if (err instanceof ClientEventError)
      this.error(err.code, err.message, err.clientEventId ?? eventId, err.param);
    else if (err instanceof VoiceError) this.error(err.code, err.message, eventId);
    else {
      this.log.error({ err }, 'unexpected error handling a client event');
      this.error(
        'engine_failed',
        'internal error while handling the event',
        undefined,
        undefined,
        'server_error',
      );
    }
  }
}
