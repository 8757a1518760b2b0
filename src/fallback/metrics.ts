import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { STAGE_BUCKETS } from '../metrics/registry.js';

/** What the fallback reports (docs/metrics.md); keys and transcripts never appear in labels. */
export interface FallbackMetrics {
  /** A session began to be served upstream, and why. */
  fallbackSession(reason: string): void;
  /** Reaching the upstream failed, or it went away: `fallback_*` code. */
  fallbackFailed(code: string): void;
  /** The upstream sent an `error` event (its code). */
  upstreamError(code: string): void;
  /** From the end of the user's turn (or the request of an answer) to the first answer audio upstream. */
  upstreamFirstAudio(seconds: number): void;
  upstreamTurn(status: string, usage: { input_tokens?: number; output_tokens?: number } | undefined): void;
  /** An HTTP chat turn (`/chat`, `/her/chat`) answered upstream, and why. */
  fallbackHttp(reason: string): void;
}

export class FallbackCounters implements FallbackMetrics {
  private readonly sessions: Counter<'reason'>;
  private readonly failures: Counter<'code'>;
  private readonly upstreamErrors: Counter<'code'>;
  private readonly firstAudio: Histogram;
  private readonly turns: Counter<'status'>;
  private readonly tokens: Counter<'kind'>;
  private readonly http: Counter<'reason'>;

  constructor(registry: Registry, upstreamSessions: () => number) {
    const registers = [registry];
    this.sessions = new Counter({
      name: 'voice_fallback_sessions_total',
      help: 'Real-time sessions served by the fallback upstream, by why: unready, error, overflow, always.',
      labelNames: ['reason'],
      registers,
    });
    this.failures = new Counter({
      name: 'voice_fallback_failures_total',
      help: 'Fallbacks that failed (upstream unreachable, key refused, closed mid-session), by code.',
      labelNames: ['code'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'voice_fallback_upstream_errors_total',
      help: 'Error events the upstream sent, by its code.',
      labelNames: ['code'],
      registers,
    });
    this.firstAudio = new Histogram({
      name: 'voice_fallback_first_audio_seconds',
      help: 'Upstream answers: from the end of the user turn (or response.create) to the first answer audio.',
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.turns = new Counter({
      name: 'voice_fallback_turns_total',
      help: 'Answers given by an upstream (real-time and HTTP chat), by final status.',
      labelNames: ['status'],
      registers,
    });
    this.tokens = new Counter({
      name: 'voice_fallback_tokens_total',
      help: 'Tokens the upstream reported using (response.done usage), input and output: what it costs.',
      labelNames: ['kind'],
      registers,
    });
    this.http = new Counter({
      name: 'voice_fallback_http_turns_total',
      help: 'HTTP chat turns (/chat, /her/chat) answered upstream, by why (error: from the failing stage on).',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'voice_fallback_active_sessions',
      help: 'Real-time sessions served by the fallback upstream now.',
      registers,
      collect() {
        this.set(upstreamSessions());
      },
    });
  }

  fallbackSession(reason: string): void {
    this.sessions.inc({ reason });
  }

  fallbackHttp(reason: string): void {
    this.http.inc({ reason });
  }

  fallbackFailed(code: string): void {
    this.failures.inc({ code });
  }

  upstreamError(code: string): void {
    this.upstreamErrors.inc({ code: code.slice(0, 64) || 'unknown' });
  }

  upstreamFirstAudio(seconds: number): void {
    this.firstAudio.observe(seconds);
  }

  upstreamTurn(status: string, usage: { input_tokens?: number; output_tokens?: number } | undefined): void {
    this.turns.inc({ status });
    if (usage?.input_tokens) this.tokens.inc({ kind: 'input' }, usage.input_tokens);
    if (usage?.output_tokens) this.tokens.inc({ kind: 'output' }, usage.output_tokens);
  }
}
