import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCppLlm } from '../src/engines/llm/llamacpp.js';
import { silentLogger } from '../src/log.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';
import {
  QUESTION,
  collect,
  expectPrefillLeavesFewTokens,
  expectStreamsAndStopsOnAbort,
} from './llm-contract.js';

let llm: LlamaCppLlm;

beforeAll(async () => {
  requireSharedAssets();
  llm = await LlamaCppLlm.load(
    join(MODELS_DIR, 'SmolLM2-135M-Instruct.Q4_1.gguf'),
    'SmolLM2-135M-Instruct.Q4_1',
    {
      threads: 1,
      device: 'cpu',
      logger: silentLogger,
      contextSize: 2048,
      maxTokens: 64,
      temperature: 0.7,
    },
  );
});
afterAll(() => llm?.close());

describe('embedded llama.cpp on SmolLM2 135M', () => {
  it('streams token by token, stops within 100 ms of an abort, then answers again', () =>
    expectStreamsAndStopsOnAbort(llm));

  it('reuses the evaluated conversation: a follow-up turn evaluates only the new tokens', async () => {
    const first = await collect(llm.chat(QUESTION, { maxTokens: 24, temperature: 0 }));
    const follow = await collect(
      llm.chat(
        [...QUESTION, { role: 'assistant', content: first.text }, { role: 'user', content: 'And of Italy?' }],
        {
          maxTokens: 24,
          temperature: 0,
        },
      ),
    );
    const fresh = first.done.usage.promptTokens + first.done.usage.completionTokens;
    expect(follow.done.usage.promptTokens).toBeGreaterThan(0);
    expect(follow.done.usage.promptTokens).toBeLessThan(fresh);
  });

  it('prefill: a conversation read beforehand leaves its answer a few tokens to read; skipped when busy or aborted', () =>
    expectPrefillLeavesFewTokens(llm));

  it('a max_tokens above llm.maxTokens is capped by it (one client cannot hold the engine for 32k tokens)', async () => {
    const story = await collect(
      llm.chat([{ role: 'user', content: 'Tell me a very long story about a cat and a dog.' }], {
        maxTokens: 32768,
        temperature: 0,
      }),
    );
    expect(story.done.usage.completionTokens).toBeLessThanOrEqual(64);
    expect(story.done.finishReason).toBe('length');
  });

  it('refuses a conversation that does not end with the user', () => {
    expect(() => llm.chat([{ role: 'assistant', content: 'hi' }])).toThrow(/must end with a user message/);
  });

  it('an already-aborted signal ends at once', async () => {
    const r = await collect(llm.chat(QUESTION, { signal: AbortSignal.abort() }));
    expect(r.deltas).toHaveLength(0);
    expect(r.done.finishReason).toBe('aborted');
  });
});
