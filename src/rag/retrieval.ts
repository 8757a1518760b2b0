import { isAbortError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Passage, Retriever } from './types.js';

/** How a retrieval ended: `done`, `dropped` (past its budget), `failed` (the engine threw). */
export type RetrievalOutcome = 'done' | 'dropped' | 'failed';

/** One search in flight or finished: when it started and ended, on performance.now(). */
export interface RetrievalJob {
  query: string;
  startedAt: number;
  doneAt: number | undefined;
  /** The passages; an empty list when the search failed. Never rejects. */
  result: Promise<Passage[]>;
  settled: boolean;
  /** The search threw (the result is then empty). */
  failed: boolean;
}

export interface Retrieved {
  passages: Passage[];
  outcome: RetrievalOutcome;
  startedAt: number;
  /** When the passages arrived (`done`), or when they were given up (`dropped`, `failed`). */
  endedAt: number;
}

/**
 * Retrieval as answers use it: a search never throws and never holds an answer past its budget.
 * A failing or slow knowledge base is logged once (warn) until it answers again, and counted.
 */
export class Retrieval {
  private warned = false;
  /** Why the knowledge base is failing now (reset by its next answer): what /ready shows. */
  private problem: string | undefined;

  constructor(
    readonly retriever: Retriever,
    private readonly options: { k: number },
    private readonly log: Logger,
    private readonly count: (outcome: RetrievalOutcome) => void = () => undefined,
  ) {}

  start(query: string, signal?: AbortSignal): RetrievalJob {
    const job: RetrievalJob = {
      query,
      startedAt: performance.now(),
      doneAt: undefined,
      settled: false,
      failed: false,
      result: Promise.resolve([]),
    };
    job.result = this.retriever
      .search(query, { k: this.options.k, ...(signal ? { signal } : {}) })
      .then(
        (passages) => {
          if (this.warned) this.log.info({ engine: this.retriever.engine }, 'knowledge base answers again');
          this.warned = false;
          this.problem = undefined;
          return passages;
        },
        (err: unknown) => {
          job.failed = true;
          if (!isAbortError(err))
            this.warnOnce('knowledge base search failed: answers go on without it', err);
          return [];
        },
      )
      .finally(() => {
        job.doneAt = performance.now();
        job.settled = true;
      });
    return job;
  }

  /** The job's passages if they arrive within `budgetMs` from now, else none (`dropped`). */
  async within(job: RetrievalJob, budgetMs: number): Promise<Retrieved> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), budgetMs)));
    const passages = await Promise.race([job.result, late]).finally(() => clearTimeout(timer));
    if (passages === 'late') {
      this.warnOnce(`knowledge base search took over ${budgetMs} ms: the answer goes on without it`);
      this.count('dropped');
      return { passages: [], outcome: 'dropped', startedAt: job.startedAt, endedAt: performance.now() };
    }
    const outcome = job.failed ? 'failed' : 'done';
    this.count(outcome);
    return { passages, outcome, startedAt: job.startedAt, endedAt: job.doneAt ?? performance.now() };
  }

  /** For /ready: the engine, and whether (and why) its searches fail or come too late now. */
  status(): { engine: string; state: 'ok' | 'failing'; reason?: string } {
    return {
      engine: this.retriever.engine,
      state: this.problem ? 'failing' : 'ok',
      ...(this.problem ? { reason: this.problem } : {}),
    };
  }

  private warnOnce(message: string, err?: unknown) {
    this.problem = err ? `${message} (${(err as Error).message})` : message;
    if (this.warned) return;
    this.warned = true;
    this.log.warn(
      { engine: this.retriever.engine, ...(err ? { err: (err as Error).message } : {}) },
      message,
    );
  }
}
