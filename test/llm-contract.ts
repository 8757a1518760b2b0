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

  const after = await collect(llm.chat(QUESTION, { maxTokens: 48, temperature: 0 }));
  expect(after.text).toMatch(/paris/i);
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
  const after = await collect(llm.chat(QUESTION, { maxTokens: 48, temperature: 0 }));
  expect(after.text).toMatch(/paris/i);
}

/**
 * Prefill: a conversation read into the cache beforehand leaves its answer only the last few
 * tokens to evaluate (the end of the user's message, the assistant's header); a prefill that is
 * aborted or finds the engine busy says so, and the engine answers on.
 */
export async function expectPrefillLeavesFewTokens(
  llm: LlmEngine,
  evaluated: (done: Extract<LlmEvent, { type: 'done' }>) => number = (done) => done.usage.promptTokens,
) {
  const passages =
    'The north wing of the museum holds the Roman glass collection, open from ten to six. '.repeat(12);
  const messages = (question: string): ChatMessage[] => [
    { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
    { role: 'system', content: `Passages from the knowledge base:\n${passages}` },
    { role: 'user', content: question },
  ];
  // Without a prefill, the whole prompt is read when the answer is asked.
  const cold = await collect(
    llm.chat(messages('When does the north wing open?'), { maxTokens: 8, temperature: 0 }),
  );
  expect(evaluated(cold.done)).toBeGreaterThan(150);

  await collect(llm.chat(QUESTION, { maxTokens: 8, temperature: 0 })); // something else in the cache
  expect(await llm.prefill!(messages('What does the north wing hold?'))).toBe(true);
  const warm = await collect(
    llm.chat(messages('What does the north wing hold?'), { maxTokens: 8, temperature: 0 }),
  );
  expect(evaluated(warm.done)).toBeLessThan(12);

  // Before the user's words are known (an empty user message): the answer reads only them.
  await collect(llm.chat(QUESTION, { maxTokens: 8, temperature: 0 }));
  expect(await llm.prefill!(messages(''))).toBe(true);
  const next = await collect(llm.chat(messages('Is it open on Sunday?'), { maxTokens: 8, temperature: 0 }));
  expect(evaluated(next.done)).toBeLessThan(24);

  const busy = llm.chat(QUESTION, { maxTokens: 8, temperature: 0 });
  expect(await llm.prefill!(messages('Is the museum open on Monday?'))).toBe(false);
  await collect(busy);

  const controller = new AbortController();
  controller.abort();
  expect(await llm.prefill!(messages('Is it open on Sunday?'), { signal: controller.signal })).toBe(false);
  const after = await collect(llm.chat(QUESTION, { maxTokens: 48, temperature: 0 }));
  expect(after.text).toMatch(/paris/i);
}
