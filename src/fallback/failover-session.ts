import type { Config } from '../config.js';
import type { Retrieval } from '../rag/retrieval.js';
import type { VoiceError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import { CLOSE_TRY_AGAIN } from '../protocol/close-codes.js';
import { serverEvent, type Dialect } from '../protocol/server-events.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ConversationSync } from '../session/persistence.js';
import {
  RealtimeSession,
  type CarriedSession,
  type SessionTransport,
  type StageFailure,
} from '../session/session.js';
import { sessionTag } from '../store/session-id.js';
import { fallbackAllows, fallbackConfigured, type FallbackReason } from './policy.js';
import type { UpstreamHandlers, UpstreamLink } from './upstream-client.js';
import { UpstreamSession } from './upstream-session.js';

export type Backend = 'local' | 'openai';

export interface FailoverOptions {
  id: string;
  config: Config;
  logger: Logger;
  dialect: Dialect;
  transport: SessionTransport;
  /** The engines now (they may still be loading). */
  runtime: () => Runtime | undefined;
  persistence?: ConversationSync;
  metrics?: Metrics;
  /** The knowledge base the local engines' answers draw on. */
  rag?: Retrieval | undefined;
  /** Whether one more session may be served by `backend` (the registry's limits). */
  hasRoom(backend: Backend): boolean;
  /** The session moved to another backend (the registry recounts). */
  moved?(from: Backend, to: Backend): void;
  /** Opens the upstream (tests may swap it). */
  connectUpstream?: (handlers: UpstreamHandlers) => Promise<UpstreamLink>;
}

/**
 * One client's real-time session, served by the local engines or by the fallback upstream, and
 * moved between them without closing the client's socket: upstream when a stage fails mid-turn
 * (policy `error`; the failed turn is answered there), back to the local engines when the upstream
 * goes away while they serve. The conversation and the settings go along each time.
 */
export class FailoverSession {
  readonly id: string;
  readonly log: Logger;
  private current: RealtimeSession | UpstreamSession;
  private closed = false;

  constructor(
    private readonly options: FailoverOptions,
    start: FallbackReason | undefined,
  ) {
    this.id = options.id;
    this.log = options.logger.child({ session: sessionTag(this.id) });
    this.current = start ? this.upstream(start) : this.local();
  }

  get backend(): Backend {
    return this.current instanceof UpstreamSession ? 'openai' : 'local';
  }

  receive(data: Buffer | string, isBinary: boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.current.receive(data, isBinary);
  }

  closeWithError(code: ErrorCode, message: string, closeCode: number, reason: string): void {
    this.closed = true;
    this.current.closeWithError(code, message, closeCode, reason);
  }

  end(code: number, reason: string): void {
    this.closed = true;
    this.current.end(code, reason);
  }

  close(): void {
    this.closed = true;
    this.current.close();
  }

  async idle(): Promise<void> {
    await this.current.idle();
  }

  private local(carried?: CarriedSession): RealtimeSession {
    const { options } = this;
    const runtime = options.runtime()!;
    const session: RealtimeSession = new RealtimeSession({
      id: this.id,
      ...(options.persistence ? { persistence: options.persistence } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(carried ? { carried } : {}),
      engines: runtime.engines,
      fillers: runtime.fillers,
      cache: runtime.cache,
      config: options.config,
      logger: options.logger,
      dialect: options.dialect,
      model: runtime.model,
      transport: options.transport,
      announceBackend: fallbackConfigured(options.config),
      rag: options.rag,
      onStageFailure: (failure) => this.failover(failure),
      reroute: (data, isBinary) => this.reroute(session, data, isBinary),
    });
    return session;
  }

  private upstream(
    reason: FallbackReason,
    carried?: CarriedSession,
    failedTurn?: StageFailure,
  ): UpstreamSession {
    const { options } = this;
    const voices = options.runtime()?.engines.voices;
    const session: UpstreamSession = new UpstreamSession({
      id: this.id,
      config: options.config,
      logger: options.logger,
      dialect: options.dialect,
      transport: options.transport,
      reason,
      voices: { has: (id) => voices?.has(id) ?? false },
      ...(carried ? { carried } : {}),
      ...(failedTurn ? { failedTurn } : {}),
      ...(options.persistence ? { persistence: options.persistence } : {}),
      ...(options.metrics ? { metrics: options.metrics.fallback, errors: options.metrics } : {}),
      ...(options.connectUpstream ? { connect: options.connectUpstream } : {}),
      onLost: (error, state) => this.upstreamLost(error, state),
      ...(options.config.fallback.realtime.failBack && reason !== 'always'
        ? { onAnswerDone: () => this.failBack() }
        : {}),
      reroute: (data, isBinary) => this.reroute(session, data, isBinary),
    });
    return session;
  }

  /**
   * A message that reached a session after it stopped goes to the one serving now; none when no
   * other took over (the session closed itself: it would come back to the same one, for ever).
   */
  private reroute(from: RealtimeSession | UpstreamSession, data: Buffer | string, isBinary: boolean): void {
    if (this.closed || this.current === from) return;
    void this.current.receive(data, isBinary);
  }

  /** A local stage failed mid-turn: the session moves upstream when its policy and room allow. */
  private failover(failure: StageFailure): boolean {
    const local = this.current;
    if (this.closed || !(local instanceof RealtimeSession)) return false;
    const carried = local.carry();
    if (!fallbackAllows(this.options.config, 'error', carried.settings.fallbackPolicy)) return false;
    if (!this.options.hasRoom('openai')) return false;
    this.log.warn(
      { code: failure.error.code, untranscribed: failure.untranscribed.length },
      'a local stage failed mid-turn: the session moves to the fallback upstream',
    );
    local.detach();
    this.current = this.upstream('error', carried, failure);
    this.options.moved?.('local', 'openai');
    return true;
  }

  /** An upstream answer ended: with `failBack`, the session returns to the local engines when they serve. */
  private failBack(): void {
    const upstream = this.current;
    if (this.closed || !(upstream instanceof UpstreamSession)) return;
    if (this.options.runtime()?.readiness.serving !== true || !this.options.hasRoom('local')) return;
    this.log.info('the local engines serve again: the session comes back from the fallback upstream');
    upstream.detach();
    this.current = this.local(upstream.carry());
    this.options.moved?.('openai', 'local');
  }

  /**
   * The upstream could not be reached or went away. The client gets one error with its code; the
   * session goes on locally when the engines serve and there is room, else it is closed.
   */
  private upstreamLost(error: VoiceError, carried: CarriedSession): void {
    if (this.closed) return;
    const runtime = this.options.runtime();
    const local = runtime?.readiness.serving === true && this.options.hasRoom('local');
    this.log.warn({ code: error.code, next: local ? 'local' : 'closed' }, 'fallback upstream lost');
    const message = `${error.message}; ${local ? 'the session goes on with the local engines' : 'no local engine can serve the session: it is closed, connect again later'}`;
    this.options.transport.sendJson(
      serverEvent('error', {
        error: { type: 'server_error', code: error.code, message, param: null, event_id: null },
      }),
    );
    this.options.metrics?.error('realtime', error.code);
    if (!local) {
      this.closed = true;
      this.options.transport.close(CLOSE_TRY_AGAIN, error.code);
      return;
    }
    this.current = this.local(carried);
    this.options.moved?.('openai', 'local');
  }
}
