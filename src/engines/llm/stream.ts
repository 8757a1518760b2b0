import type { FinishReason, LlmEvent, LlmTiming, LlmUsage } from './types.js';

/**
 * Push-to-pull adapter for engines whose libraries call back with text: producers `push` deltas
 * and `end` once; the consumer iterates. Timing is measured here, on one clock, for every engine.
 */
export class LlmEventQueue implements AsyncIterable<LlmEvent> {
  private readonly events: LlmEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;
  private readonly started = performance.now();
  private firstTokenAt: number | null = null;
  private chunks = 0;

  push(text: string): void {
    if (this.ended || text === '') return;
    this.firstTokenAt ??= performance.now();
    this.chunks++;
    this.events.push({ type: 'delta', text });
    this.wake?.();
  }

  end(finishReason: FinishReason, usage?: Partial<LlmUsage>): void {
    if (this.ended) return;
    this.events.push({
      type: 'done',
      finishReason,
      usage: {
        promptTokens: usage?.promptTokens ?? 0,
        completionTokens: usage?.completionTokens ?? this.chunks,
      },
      timing: this.timing(usage?.completionTokens ?? this.chunks),
    });
    this.ended = true;
    this.wake?.();
  }

  fail(err: Error): void {
    if (this.ended) return;
    this.failure = err;
    this.ended = true;
    this.wake?.();
  }

  timing(tokens: number): LlmTiming {
    const now = performance.now();
    const genSecs = this.firstTokenAt === null ? 0 : (now - this.firstTokenAt) / 1000;
    return {
      firstTokenMs: this.firstTokenAt === null ? null : this.firstTokenAt - this.started,
      totalMs: now - this.started,
      tokensPerSec: genSecs > 0 && tokens > 1 ? (tokens - 1) / genSecs : 0,
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LlmEvent> {
    for (;;) {
      const event = this.events.shift();
      if (event) {
        yield event;
        if (event.type === 'done') return;
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * How many tokens an answer may take: what the caller asked (a client's `max_tokens`), never more
 * than the configured `llm.maxTokens`, so that one client cannot hold the engine for 32k tokens.
 */
export function answerTokens(asked: number | undefined, cap: number): number {
  return Math.min(asked ?? cap, cap);
}
