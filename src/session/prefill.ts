import type { ChatMessage, LlmEngine } from '../engines/llm/types.js';
import type { Logger } from '../log.js';

/**
 * The answer's prompt read into the LLM's cache while the end of a turn is judged (`llm.prefill`):
 * the turn's latest draft, then its pause's speculative transcript, is what the user said if the
 * turn ends there, so the prompt the answer will have (history, passages, question) is known but
 * for its last tokens. When the turn ends there, the LLM starts writing at once instead of
 * reading it all; when the user goes on, the prefill is aborted.
 *
 * One prefill runs at a time; a newer guess waits for it and replaces any guess waiting, and then
 * costs only the tokens where its prompt differs (the engine keeps the common prefix).
 */
export class AnswerPrefill {
  private controller = new AbortController();
  private running = false;
  private waiting: { itemId: string; prompt: Promise<ChatMessage[]> } | undefined;

  constructor(
    private readonly llm: LlmEngine & Required<Pick<LlmEngine, 'prefill'>>,
    private readonly log: Logger,
  ) {}

  static for(llm: LlmEngine, log: Logger): AnswerPrefill | undefined {
    return llm.prefill
      ? new AnswerPrefill(llm as LlmEngine & Required<Pick<LlmEngine, 'prefill'>>, log)
      : undefined;
  }

  start(itemId: string, prompt: Promise<ChatMessage[]>): void {
    this.waiting = { itemId, prompt };
    if (!this.running) void this.next();
  }

  /** The user went on, or the session closes: the prefill running stops, the waiting one is dropped. */
  drop(): void {
    this.controller.abort();
    this.controller = new AbortController();
    this.waiting = undefined;
  }

  private async next(): Promise<void> {
    this.running = true;
    while (this.waiting) {
      const { itemId, prompt } = this.waiting;
      this.waiting = undefined;
      const signal = this.controller.signal;
      const started = performance.now();
      const done = await prompt.then(
        (messages) => !signal.aborted && this.llm.prefill(messages, { signal }),
        () => false,
      );
      this.log.debug({ item: itemId, done, ms: Math.round(performance.now() - started) }, 'answer prefill');
    }
    this.running = false;
  }
}
