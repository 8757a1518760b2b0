import { expect } from 'vitest';
import type { ChatMessage, LlmEngine, LlmEvent } from '../src/engines/llm/types.js';

export const QUESTION: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
  { role: 'user', content: 'What is the capital of France?' },
];

export async function collect(stream: AsyncIterable<LlmEvent>) {
  const deltas: { text: string; at: number }[] = [];
  let done: Extract<LlmEvent, { type: 'done' }> | undefined;
  for await (const e of stream) {
    if (e.type === 'delta') deltas.push({ text: e.text, at: performance.now() });
    else done = e;
  }
  return { deltas, done: done!, text: deltas.map((d) => d.text).join('') };
}

/** What every LLM engine must do, on real weights: stream, stop on abort within 100 ms, go on. */
export async function expectStreamsAndStopsOnAbort(llm: LlmEngine) {
  const answer = await collect(llm.chat(QUESTION, { maxTokens: 48, temperature: 0 }));
  expect(answer.deltas.length).toBeGreaterThan(2); // token by token, not one blob
  expect(answer.text).toMatch(/paris/i);
  expect(answer.done.finishReason).toMatch(/stop|length/);
  expect(answer.done.usage.completionTokens).toBeGreaterThan(0);
  expect(answer.done.timing.firstTokenMs).toBeGreaterThan(0);
  expect(answer.done.timing.firstTokenMs!).toBeLessThanOrEqual(answer.done.timing.totalMs);

  const controller = new AbortController();
  let abortedAt = 0;
  let endedAt = 0;
  let count = 0;
  let finish = '';
  for await (const e of llm.chat([{ role: 'user', content: 'Tell me a long story about a cat and a dog.' }], {
    signal: controller.signal,
    maxTokens: 400,
  })) {
    if (e.type === 'delta' && ++count === 3) {
      abortedAt = performance.now();
      controller.abort();
    }
    if (e.type === 'done') {
      endedAt = performance.now();
      finish = e.finishReason;
    }
  }
  expect(finish).toBe('aborted');
  expect(endedAt - abortedAt).toBeLessThan(100);

  const next = await collect(llm.chat(QUESTION, { maxTokens: 48, temperature: 0 }));
  expect(next.text).toMatch(/paris/i);
}

/**
 * Race: a barge-in while the engine still evaluates a long prompt (no token yet) ends the stream
 * at once as `aborted`, with no token after it; the engine then answers the next request.
 */
export async function expectAbortDuringPromptEvaluation(llm: LlmEngine) {
  const long = 'The cat sat on the mat and looked at the dog, who was asleep by the fire. '.repeat(80);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const cut = await collect(
    llm.chat([{ role: 'user', content: `${long}\nSummarize this story.` }], { signal: controller.signal }),
  );
  expect(cut.done.finishReason).toBe('aborted');
  expect(cut.deltas).toEqual([]);
  const next = await collect(llm.chat(QUESTION, { maxTokens: 48, temperature: 0 }));
  expect(next.text).toMatch(/paris/i);
}
