import type { TurnTimeline } from '../pipeline/timing.js';
import type { Retrieval, RetrievalJob, Retrieved } from '../rag/retrieval.js';
import type { Passage } from '../rag/types.js';

export interface KnowledgeOptions {
  /** Words of a draft (partial transcript) before it is searched. */
  minWords: number;
  /** How long an answer waits for a retrieval still running when it needs the passages. */
  budgetMs: number;
}

/** Drafts of one turn that may start a search (each new draft may start one). */
const MAX_SEARCHES_PER_TURN = 16;
const words = (s: string) => (s.match(/\S+/g) ?? []).length;

/**
 * A session's knowledge base retrieval. While the user speaks, each draft of the turn (partial
 * transcripts), then the pause's speculative transcript, starts a search; the answer takes the
 * newest search, waiting for it up to `budgetMs` if it still runs (an older finished one serves
 * if it fails or is late), else searches the final transcript within that budget. Past the budget
 * the answer goes on without passages (`rag_dropped`).
 */
export class SessionKnowledge {
  private readonly turns = new Map<string, { jobs: RetrievalJob[] }>();
  private readonly controller = new AbortController();

  constructor(
    private readonly rag: Retrieval,
    private readonly options: KnowledgeOptions,
  ) {}

  /**
   * What the turn's transcript would be if it ended now (`draft`: a partial transcript, searched
   * once it has `minWords` words; else the pause's speculative transcript, searched whatever its
   * length). Its search becomes the newest, the one the answer takes. Resolves to its passages
   * (none when it fails); undefined when no search was started.
   */
  guess(itemId: string, text: string, draft: boolean): Promise<Passage[]> | undefined {
    const query = text.trim();
    if (draft && words(query) < this.options.minWords) return undefined;
    const turn = this.turn(itemId);
    const same = turn.jobs.at(-1);
    if (same && !same.failed && same.query === query) return same.result;
    // A long turn's drafts stop being searched; its pause's transcript always is.
    if (draft && turn.jobs.length >= MAX_SEARCHES_PER_TURN) return undefined;
    const job = this.rag.start(query, this.controller.signal);
    turn.jobs.push(job);
    return job.result;
  }

  private turn(itemId: string) {
    let turn = this.turns.get(itemId);
    if (!turn) {
      // Only the turn being spoken is prefetched for.
      this.turns.clear();
      turn = { jobs: [] };
      this.turns.set(itemId, turn);
    }
    return turn;
  }

  /** The passages for an answer to `query`, the user's turn `itemId` (when it was spoken). */
  async passages(itemId: string | undefined, query: string, timeline: TurnTimeline): Promise<Passage[]> {
    const jobs = (itemId && this.turns.get(itemId)?.jobs) || [];
    if (itemId) this.turns.delete(itemId);
    let job = jobs.at(-1) ?? this.rag.start(query, this.controller.signal);
    let got: Retrieved = await this.rag.within(job, job.settled ? 0 : this.options.budgetMs);
    const older = jobs.filter((j) => j !== job && j.settled && !j.failed).at(-1);
    if (got.outcome !== 'done' && older) got = await this.rag.within((job = older), 0);
    timeline.markAt('rag_started', job.startedAt);
    timeline.markAt(got.outcome === 'done' ? 'rag_done' : 'rag_dropped', got.endedAt);
    return got.passages;
  }

  close(): void {
    this.controller.abort();
    this.turns.clear();
  }
}
