import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../errors.js';
import { TURN_MARKS, type TurnTimings } from '../pipeline/timing.js';
import { OPTIONAL_STAGES, STAGES } from '../runtime/readiness.js';
import type { Runtime } from '../runtime/runtime.js';
import { FallbackCounters } from '../fallback/metrics.js';
import type { GpuMonitor } from './gpu.js';

/** Where a turn or an error came from: `twilio` and `phone` are the telephony transports. */
export type Transport = 'realtime' | 'http' | 'twilio' | 'phone';

/** What sessions and routes report; the Prometheus registry below is one implementation. */
export interface TurnMetrics {
  /** One answered (or failed, or cancelled) turn with its stage timeline. */
  turn(transport: Transport, timings: TurnTimings, status: string): void;
  /** A response stopped by the user (barge-in, cancel, truncate). */
  interruption(): void;
  /** A real-time turn ended, by why: `silence` (server_vad), `model`, `max_silence`. */
  turnEnded(reason: string): void;
  /** The user went on after a pause: the pause's speculative work was dropped. */
  turnResumed(): void;
  error(transport: Transport, code: ErrorCode): void;
  /** A knowledge base retrieval an answer waited for: `done`, `dropped` (past its budget), `failed`. */
  retrieval?(outcome: 'done' | 'dropped' | 'failed'): void;
}

/** Seconds from the end of the user's turn (or the request) to each stage: 5 ms to 60 s. */
export const STAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 60];
/** Whole HTTP requests, streaming ones included: 1 ms to 60 s. */
export const REQUEST_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface MetricsSources {
  runtime: () => Runtime | undefined;
  realtimeSessions: () => number;
  /** Real-time sessions served by the fallback upstream (counted in `realtimeSessions` too). */
  upstreamSessions?: () => number;
  httpStreams: () => number;
  gpu: GpuMonitor;
}

/**
 * Every metric of the service (docs/metrics.md lists names, units and buckets). Counters that the
 * engines keep themselves (fillers played, sentence-cache hits) are read at scrape time.
 */
export class Metrics implements TurnMetrics {
  readonly registry = new Registry();
  private readonly stage: Histogram<'transport' | 'stage'>;
  private readonly turns: Counter<'transport' | 'status'>;
  private readonly interruptions: Counter;
  private readonly turnEnds: Counter<'reason'>;
  private readonly resumes: Counter;
  private readonly errors: Counter<'transport' | 'code'>;
  private readonly retrievals: Counter<'outcome'>;
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly limitsErrors: Counter<'operation'>;
  readonly fallback: FallbackCounters;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.fallback = new FallbackCounters(this.registry, sources.upstreamSessions ?? (() => 0));
    collectDefaultMetrics({ register: this.registry, prefix: 'voice_' });
    this.stage = new Histogram({
      name: 'voice_turn_stage_seconds',
      help: 'Time from the end of the user turn (real-time) or the request (HTTP) to each stage of the answer.',
      labelNames: ['transport', 'stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.turns = new Counter({
      name: 'voice_turns_total',
      help: 'Answers by transport and final status (completed, cancelled, failed, incomplete).',
      labelNames: ['transport', 'status'],
      registers,
    });
    this.turnEnds = new Counter({
      name: 'voice_turn_ends_total',
      help: 'Real-time user turns ended, by why: silence (server_vad), model (semantic_vad), max_silence.',
      labelNames: ['reason'],
      registers,
    });
    this.resumes = new Counter({
      name: 'voice_turn_resumes_total',
      help: 'Pauses the user spoke through (semantic_vad held the turn; speculative work dropped).',
      registers,
    });
    this.interruptions = new Counter({
      name: 'voice_interruptions_total',
      help: 'Answers stopped by the user (barge-in, response.cancel, truncate).',
      registers,
    });
    this.errors = new Counter({
      name: 'voice_errors_total',
      help: 'Errors reported to clients, by transport and catalogue code.',
      labelNames: ['transport', 'code'],
      registers,
    });
    this.retrievals = new Counter({
      name: 'voice_rag_retrievals_total',
      help: 'Knowledge base retrievals an answer used or waited for, by outcome: done, dropped (past its budget), failed.',
      labelNames: ['outcome'],
      registers,
    });
    this.limitsErrors = new Counter({
      name: 'voice_limits_redis_errors_total',
      help: 'Redis calls of the shared limits that failed (the fail mode applied), by what they counted: rate, session.',
      labelNames: ['operation'],
      registers,
    });
    this.requests = new Histogram({
      name: 'voice_http_request_duration_seconds',
      help: 'HTTP requests from arrival to the last byte, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    const fromRuntime = (read: (r: Runtime) => number) => {
      let last = 0;
      return function (this: Counter) {
        const r = sources.runtime();
        const now = r ? read(r) : last;
        if (now > last) this.inc(now - last);
        last = now;
      };
    };
    new Counter({
      name: 'voice_fillers_played_total',
      help: 'Filler phrases played while an answer was being prepared.',
      registers,
      collect: fromRuntime((r) => r.fillers?.played ?? 0),
    });
    new Counter({
      name: 'voice_sentence_cache_hits_total',
      help: 'Sentences whose audio came from the sentence cache.',
      registers,
      collect: fromRuntime((r) => r.cache.hits),
    });
    new Counter({
      name: 'voice_sentence_cache_misses_total',
      help: 'Sentences synthesized because the cache did not hold them.',
      registers,
      collect: fromRuntime((r) => r.cache.misses),
    });
    new Gauge({
      name: 'voice_active_sessions',
      help: 'Open real-time sessions (WebSocket) and HTTP answers being streamed.',
      labelNames: ['transport'],
      registers,
      collect() {
        this.set({ transport: 'realtime' }, sources.realtimeSessions());
        this.set({ transport: 'http' }, sources.httpStreams());
      },
    });
    new Gauge({
      name: 'voice_engine_ready',
      help: '1 when the engine of the stage is loaded and warmed up, else 0.',
      labelNames: ['stage'],
      registers,
      collect() {
        const readiness = sources.runtime()?.readiness;
        for (const stage of [...STAGES, ...OPTIONAL_STAGES])
          this.set({ stage }, readiness?.engines[stage].state === 'ready' ? 1 : 0);
      },
    });
    // Counters, not a histogram: the queues keep running totals, read at scrape time. The mean
    // wait over a window is rate(…wait_seconds_total) / rate(…jobs_total).
    const queueTotals = (read: (w: { jobs: number; ms: number }) => number) =>
      function (this: Counter<'stage' | 'lane'>) {
        const totals = new Map<string, { stage: string; lane: string; value: number }>();
        for (const q of sources.runtime()?.engines.queues ?? [])
          for (const [lane, w] of Object.entries(q.waits)) {
            const key = `${q.stage}/${lane}`;
            const t = totals.get(key) ?? { stage: q.stage, lane, value: 0 };
            t.value += read(w);
            totals.set(key, t);
          }
        this.reset();
        for (const t of totals.values()) this.inc({ stage: t.stage, lane: t.lane }, t.value);
      };
    new Counter({
      name: 'voice_engine_queue_jobs_total',
      help: 'Jobs that left an engine queue to run, by stage (stt, llm, tts) and lane (live, partial, batch).',
      labelNames: ['stage', 'lane'],
      registers,
      collect: queueTotals((w) => w.jobs),
    });
    new Counter({
      name: 'voice_engine_queue_wait_seconds_total',
      help: 'Seconds those jobs waited for the engine, by stage and lane.',
      labelNames: ['stage', 'lane'],
      registers,
      collect: queueTotals((w) => w.ms / 1000),
    });
    const pool = () => sources.runtime()?.llmPool?.stats() ?? [];
    new Gauge({
      name: 'voice_llm_endpoint_up',
      help: '1 when the llm.pool server answers its health check (or its last answer), else 0.',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const e of pool()) this.set({ endpoint: e.endpoint }, e.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'voice_llm_endpoint_outstanding',
      help: 'Answers in progress on each llm.pool server (the pool sends the next to the lowest).',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const e of pool()) this.set({ endpoint: e.endpoint }, e.outstanding);
      },
    });
    new Counter({
      name: 'voice_llm_endpoint_answers_total',
      help: 'Answers sent to each llm.pool server, by outcome: ok, failed and timeout (before the first token: retried on the next server), failed_after_start, aborted.',
      labelNames: ['endpoint', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const e of pool())
          for (const [outcome, n] of Object.entries(e.outcomes))
            this.inc({ endpoint: e.endpoint, outcome }, n);
      },
    });
    // The first GPU gauge reads nvidia-smi once per scrape and sets all three (gauges are
    // serialized in registration order, after their own collect).
    const gpuUtil: Gauge<'gpu' | 'name'> = new Gauge({
      name: 'voice_gpu_utilization_ratio',
      help: 'GPU busy time over the last sample period (0 to 1), per GPU; absent without a GPU.',
      labelNames: ['gpu', 'name'],
      registers,
      async collect() {
        const { gpus } = await sources.gpu.read();
        for (const g of [gpuUtil, gpuUsed, gpuTotal]) g.reset();
        for (const g of gpus ?? []) {
          const labels = { gpu: String(g.index), name: g.name };
          gpuUtil.set(labels, g.utilizationPercent / 100);
          gpuUsed.set(labels, g.memoryUsedMiB * 2 ** 20);
          gpuTotal.set(labels, g.memoryTotalMiB * 2 ** 20);
        }
      },
    });
    const gpuUsed = new Gauge({
      name: 'voice_gpu_memory_used_bytes',
      help: 'GPU memory in use, per GPU; absent without a GPU.',
      labelNames: ['gpu', 'name'],
      registers,
    });
    const gpuTotal = new Gauge({
      name: 'voice_gpu_memory_total_bytes',
      help: 'GPU memory in all, per GPU; absent without a GPU.',
      labelNames: ['gpu', 'name'],
      registers,
    });
  }
  turn(transport: Transport, timings: TurnTimings, status: string): void {
    this.turns.inc({ transport, status });
    for (const stage of TURN_MARKS) {
      const ms = timings.marks[stage];
      // Retrieval may start before the origin (while the user speaks): counted apart, not timed here.
      if (ms !== undefined && stage !== timings.origin && !stage.startsWith('rag_'))
        this.stage.observe({ transport, stage }, ms / 1000);
    }
  }

  retrieval(outcome: 'done' | 'dropped' | 'failed'): void {
    this.retrievals.inc({ outcome });
  }

  turnEnded(reason: string): void {
    this.turnEnds.inc({ reason });
  }

  turnResumed(): void {
    this.resumes.inc();
  }

  interruption(): void {
    this.interruptions.inc();
  }

  error(transport: Transport, code: ErrorCode): void {
    this.errors.inc({ transport, code });
  }

  limitsError(operation: 'rate' | 'session'): void {
    this.limitsErrors.inc({ operation });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }
}
