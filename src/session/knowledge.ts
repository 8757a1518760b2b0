import type { TurnTimeline } from '../pipeline/timing.js';
import type { Retrieval, RetrievalJob, Retrieved } from '../rag/retrieval.js';
import type { Passage } from '../rag/types.js';

export interface KnowledgeOptions {
  /** Stable words of a turn before its first prefetch. */
  minWords: number;
  /** How long an answer waits for a retrieval still running when it needs the passages. */
  budgetMs: number;
}

/** Prefetches one turn may start (each partial transcript that grows it may start one). */
const MAX_PREFETCH_PER_TURN = 8;
const words = (s: string) => (s.match(/\S+/g) ?? []).length;

/**
 * A session's knowledge base retrieval. While the user speaks, the stable words of the turn
 * (partial transcripts) start searches, again each time they grow; when the answer needs passages
 * it takes the newest finished search at once, else waits for the newest running one up to
 * `budgetMs`, else searches the final transcript within that budget. Past the budget the answer
 * goes on without passages (`rag_dropped`).
 */
export class SessionKnowledge {
  private readonly turns = new Map<string, { text: string; jobs: RetrievalJob[] }>();
  private readonly controller = new AbortController();

  constructor(
    private readonly rag: Retrieval,
    private readonly options: KnowledgeOptions,
  ) {}

  /** Stable words of the turn being spoken (a partial transcript delta). */
  heard(itemId: string, delta: string): void {
    let turn = this.turns.get(itemId);
    if (!turn) {
      // Only the turn being spoken is prefetched for.
      this.turns.clear();
      turn = { text: '', jobs: [] };
      this.turns.set(itemId, turn);
    }
    turn.text += delta;
    if (words(turn.text) < this.options.minWords || turn.jobs.length >= MAX_PREFETCH_PER_TURN) return;
    turn.jobs.push(this.rag.start(turn.text.trim(), this.controller.signal));
  }

  /** The passages for an answer to `query`, the user's turn `itemId` (when it was spoken). */
  async passages(itemId: string | undefined, query: string, timeline: TurnTimeline): Promise<Passage[]> {
    const jobs = (itemId && this.turns.get(itemId)?.jobs) || [];
    if (itemId) this.turns.delete(itemId);
    const finished = jobs.filter((j) => j.settled && !j.failed).at(-1);
    let got: Retrieved;
    let job: RetrievalJob;
    if (finished) got = await this.rag.within((job = finished), 0);
    else if (jobs.length > 0) got = await this.rag.within((job = jobs.at(-1)!), this.options.budgetMs);
    else
      got = await this.rag.within(
        (job = this.rag.start(query, this.controller.signal)),
        this.options.budgetMs,
      );
    timeline.markAt('rag_started', job.startedAt);
    timeline.markAt(got.outcome === 'done' ? 'rag_done' : 'rag_dropped', got.endedAt);
    return got.passages;
  }

  close(): void {
    this.controller.abort();
    this.turns.clear();
  }
}
