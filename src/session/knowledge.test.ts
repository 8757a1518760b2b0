import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { Retrieval } from '../rag/retrieval.js';
import { FakeLlm, FakeStt } from '../testing/fake-engines.js';
import { FakeRetriever, passage } from '../testing/fake-retriever.js';
import { SessionHarness } from '../testing/session-harness.js';

const GUIDE = 'Le code du portail de la résidence est 4821.';

function knowledgeBase() {
  const kb = new FakeRetriever(() => [passage(GUIDE, 'residence.md')]);
  const outcomes: string[] = [];
  return { kb, outcomes, rag: new Retrieval(kb, { k: 3 }, silentLogger, (o) => outcomes.push(o)) };
}

type Done = { response: { x_sources?: unknown; x_timings: { marks: Record<string, number> } } };

describe('knowledge base in real-time sessions', () => {
  it('the answer is prompted with the passages of the transcribed turn, and lists them in x_sources', async () => {
    const { kb, rag, outcomes } = knowledgeBase();
    const llm = new FakeLlm(() => ({ tokens: ['Le code est 4821.'] }));
    const h = await SessionHarness.create({
      rag,
      llm,
      fillers: false,
      stt: new FakeStt(() => ({ text: 'Quel est le code du portail ?' })),
    });
    await h.turn();
    const done = (await h.waitFor('response.done')) as unknown as Done;
    expect(kb.queries).toEqual(['Quel est le code du portail ?']);
    // Just before the user's message: the conversation before it stays the same (the LLM's cache).
    const prompt = llm.calls[0]!;
    expect(prompt.at(-1)!.role).toBe('user');
    expect(prompt.at(-2)).toMatchObject({
      role: 'system',
      content: expect.stringContaining(GUIDE) as string,
    });
    expect(prompt.at(-2)!.content).toContain('(residence.md)');
    expect(prompt[0]!.content).not.toContain(GUIDE);
    expect(done.response.x_sources).toEqual([{ source: 'residence.md', chunk_id: 'doc_test#0' }]);
    const marks = done.response.x_timings.marks;
    expect(marks.rag_done).toBeGreaterThanOrEqual(marks.stt_done!);
    expect(marks.rag_done).toBeLessThanOrEqual(marks.first_llm_token!);
    expect(outcomes).toEqual(['done']);
  });

  it('prefetch: the partial transcripts start the search while the user speaks; the answer takes it at once', async () => {
    const { kb, rag } = knowledgeBase();
    const h = await SessionHarness.create({
      rag,
      fillers: false,
      stt: new FakeStt(
        () => ({ text: 'Quel est le code du portail ?', delayMs: 50 }),
        () => ({ text: 'Quel est le code du portail' }),
      ),
      config: { turns: { partialIntervalMs: 200 }, rag: { prefetchMinWords: 3 } },
    });
    await h.audio(1200, true, { paceMs: 5 });
    await h.audio(300, false);
    const done = (await h.waitFor('response.done')) as unknown as Done;
    // The stable words so far (the last word of a partial waits for the next one).
    expect(kb.queries[0]).toMatch(/^Quel est le code/);
    const marks = done.response.x_timings.marks;
    // Found before the user stopped speaking: negative marks, before the origin (speech_stopped).
    expect(marks.rag_started).toBeLessThan(0);
    expect(marks.rag_done).toBeLessThan(0);
    expect(done.response.x_sources).toHaveLength(1);
  });

  it('slowRetrievalIsDroppedAtTheBudget: a search that hangs holds the answer for rag.budgetMs, then it goes on without passages', async () => {
    const { kb, rag, outcomes } = knowledgeBase();
    kb.mode = 'hang';
    const llm = new FakeLlm(() => ({ tokens: ['Je ne sais pas.'] }));
    const h = await SessionHarness.create({ rag, llm, fillers: false, config: { rag: { budgetMs: 100 } } });
    await h.turn();
    const done = (await h.waitFor('response.done')) as unknown as Done & { response: { status: string } };
    expect(done.response.status).toBe('completed');
    const marks = done.response.x_timings.marks;
    expect(marks.rag_dropped! - marks.stt_done!).toBeGreaterThanOrEqual(95);
    expect(marks.rag_dropped! - marks.stt_done!).toBeLessThan(400);
    expect(marks.rag_done).toBeUndefined();
    expect(done.response.x_sources).toEqual([]);
    expect(JSON.stringify(llm.calls[0])).not.toContain(GUIDE);
    expect(outcomes).toEqual(['dropped']);
    kb.release();
  });
});
