import { VoiceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EngineInfo } from '../types.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from './types.js';

/** One server of the pool: how to reach it (connect) and to ask whether it still answers (ping). */
export interface PoolEndpoint {
  /** Shown in metrics, logs and /ready (credentials removed). */
  name: string;
  connect(): Promise<LlmEngine>;
  ping(signal: AbortSignal): Promise<void>;
}

export interface PoolOptions {
  /** Between two health checks of every endpoint. */
  healthIntervalMs: number;
  /** An answer with no first token this long after it was sent goes to the next endpoint. */
  firstTokenTimeoutMs: number;
  logger: Logger;
}

/** What happened to one answer on one endpoint. */
export type PoolOutcome = 'ok' | 'failed' | 'timeout' | 'failed_after_start' | 'aborted';

export interface EndpointStats {
  endpoint: string;
  up: boolean;
  outstanding: number;
  /** Answers by outcome since start. */
  outcomes: Record<PoolOutcome, number>;
  lastError?: string;
}

interface Member {
  endpoint: PoolEndpoint;
  engine: LlmEngine | undefined;
  up: boolean;
  outstanding: number;
  outcomes: Record<PoolOutcome, number>;
  lastError: string | undefined;
  checking: boolean;
}

const noOutcomes = (): Record<PoolOutcome, number> => ({
  ok: 0,
  failed: 0,
  timeout: 0,
  failed_after_start: 0,
  aborted: 0,
});

/**
 * Several LLM servers (Ollama or OpenAI-compatible) as one engine. Each answer goes to the
 * endpoint that answers with the fewest answers in progress; one that refuses, fails or sends no
 * first token within `firstTokenTimeoutMs` is marked down and the answer goes to the next. Once a
 * token was sent the answer cannot move (it would be said twice): a failure then is the caller's.
 * Every `healthIntervalMs` each endpoint is pinged (a down one reconnected), so one that comes
 * back takes answers again.
 */
export class LlmPool implements LlmEngine {
  readonly info: EngineInfo;
  private readonly members: Member[];
  private readonly timer: NodeJS.Timeout;
  private next = 0;
  private closed = false;

  private constructor(
    members: Member[],
    private readonly options: PoolOptions,
    loadMs: number,
  ) {
    this.members = members;
    const first = members.find((m) => m.engine)!.engine!;
    this.info = {
      engine: 'pool',
      model: first.info.model,
      device: first.info.device,
      threads: first.info.threads,
      loadMs,
      chosenBecause: `llm.pool: ${members.map((m) => `${m.endpoint.name} (${m.up ? 'up' : 'down'})`).join(', ')}`,
    };
    this.timer = setInterval(() => void this.check(), options.healthIntervalMs);
    this.timer.unref();
  }

  /** Connects to every endpoint at once; at least one must answer. */
  static async connect(endpoints: PoolEndpoint[], options: PoolOptions): Promise<LlmPool> {
    const started = performance.now();
    const members = await Promise.all(
      endpoints.map(async (endpoint): Promise<Member> => {
        const member: Member = {
          endpoint,
          engine: undefined,
          up: false,
          outstanding: 0,
          outcomes: noOutcomes(),
          lastError: undefined,
          checking: false,
        };
        try {
          member.engine = await endpoint.connect();
          member.up = true;
        } catch (err) {
          member.lastError = (err as Error).message;
          options.logger.warn(
            { endpoint: endpoint.name, err: member.lastError },
            'LLM pool: endpoint down at start',
          );
        }
        return member;
      }),
    );
    if (!members.some((m) => m.up))
      throw new VoiceError(
        'engine_unavailable',
        `no endpoint of llm.pool answers: ${members.map((m) => `${m.endpoint.name}: ${m.lastError}`).join('; ')}`,
      );
    return new LlmPool(members, options, performance.now() - started);
  }

  get size(): number {
    return this.members.length;
  }

  stats(): EndpointStats[] {
    return this.members.map((m) => ({
      endpoint: m.endpoint.name,
      up: m.up,
      outstanding: m.outstanding,
      outcomes: { ...m.outcomes },
      ...(m.lastError ? { lastError: m.lastError } : {}),
    }));
  }

  async *chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
    const started = performance.now();
    const tried = new Set<Member>();
    for (;;) {
      const member = this.pick(tried);
      if (!member)
        throw new VoiceError(
          'engine_unavailable',
          `no endpoint of llm.pool could answer (${[...tried].map((m) => `${m.endpoint.name}: ${m.lastError}`).join('; ') || 'all down'})`,
        );
      tried.add(member);
      const attempt = new AbortController();
      const cancel = () => attempt.abort();
      options.signal?.addEventListener('abort', cancel, { once: true });
      if (options.signal?.aborted) attempt.abort();
      let timedOut = false;
      const noFirstToken = setTimeout(() => {
        timedOut = true;
        attempt.abort();
      }, this.options.firstTokenTimeoutMs);
      let firstTokenAt: number | undefined;
      member.outstanding++;
      let outcome: PoolOutcome = 'ok';
      try {
        for await (const event of member.engine!.chat(messages, { ...options, signal: attempt.signal })) {
          if (event.type === 'delta') {
            if (firstTokenAt === undefined) {
              firstTokenAt = performance.now();
              clearTimeout(noFirstToken);
            }
            yield event;
            continue;
          }
          if (timedOut && firstTokenAt === undefined)
            throw new Error(`no first token in ${this.options.firstTokenTimeoutMs} ms`);
          if (event.finishReason === 'aborted') outcome = 'aborted';
          const now = performance.now();
          yield {
            ...event,
            // On the pool's clock: a retried answer's wait for its first token counts the failed try.
            timing: {
              ...event.timing,
              firstTokenMs: firstTokenAt === undefined ? null : firstTokenAt - started,
              totalMs: now - started,
            },
          };
          return;
        }
        return;
      } catch (err) {
        if (options.signal?.aborted) {
          outcome = 'aborted';
          yield {
            type: 'done',
            finishReason: 'aborted',
            usage: { promptTokens: 0, completionTokens: 0 },
            timing: { firstTokenMs: null, totalMs: performance.now() - started, tokensPerSec: 0 },
          };
          return;
        }
        if (firstTokenAt !== undefined) {
          outcome = 'failed_after_start';
          member.lastError = (err as Error).message;
          throw err;
        }
        outcome = timedOut ? 'timeout' : 'failed';
        this.markDown(member, err as Error);
        this.options.logger.warn(
          { endpoint: member.endpoint.name, outcome, err: (err as Error).message },
          'LLM pool: the answer goes to the next endpoint',
        );
      } finally {
        clearTimeout(noFirstToken);
        options.signal?.removeEventListener('abort', cancel);
        member.outstanding--;
        member.outcomes[outcome]++;
      }
    }
  }

  /** Prefills on the endpoint the next answer would go to (best effort; never throws). */
  async prefill(messages: ChatMessage[], options?: { signal?: AbortSignal }): Promise<boolean> {
    const member = this.pick(new Set(), false);
    if (!member?.engine?.prefill) return false;
    return member.engine.prefill(messages, options).catch(() => false);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.members.flatMap((m) => (m.engine ? [m.engine.close()] : [])));
  }

  /**
   * The endpoint not yet tried with the fewest answers in progress (round robin among equals): an
   * up one, else one marked down that may have come back since its last check (a refused
   * connection costs little; an answer never fails while an endpoint could take it).
   */
  private pick(tried: Set<Member>, advance = true): Member | undefined {
    const n = this.members.length;
    let best: Member | undefined;
    for (const wantUp of [true, false]) {
      for (let i = 0; i < n; i++) {
        const m = this.members[(this.next + i) % n]!;
        if (m.up !== wantUp || !m.engine || tried.has(m)) continue;
        if (!best || m.outstanding < best.outstanding) best = m;
      }
      if (best) break;
    }
    if (best && advance) this.next = (this.members.indexOf(best) + 1) % n;
    return best;
  }

  private markDown(member: Member, err: Error) {
    member.lastError = err.message;
    if (!member.up) return;
    member.up = false;
    this.options.logger.warn({ endpoint: member.endpoint.name, err: err.message }, 'LLM pool: endpoint down');
  }

  /** One round of health checks: ping the up endpoints, reconnect the down ones. */
  async check(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.checking || this.closed) return;
        m.checking = true;
        const timeout = AbortSignal.timeout(Math.max(500, this.options.healthIntervalMs));
        try {
          if (m.engine) await m.endpoint.ping(timeout);
          else m.engine = await m.endpoint.connect();
          if (!m.up) this.options.logger.info({ endpoint: m.endpoint.name }, 'LLM pool: endpoint up');
          m.up = true;
        } catch (err) {
          this.markDown(m, err as Error);
        } finally {
          m.checking = false;
        }
      }),
    );
  }
}
