import { describe, expect, it } from 'vitest';
import { FakeRetriever, passage } from '../testing/fake-retriever.js';
import { Retrieval, type RetrievalOutcome } from './retrieval.js';

function setup() {
  const warnings: string[] = [];
  const outcomes: RetrievalOutcome[] = [];
  const log = { warn: (_: object, m: string) => warnings.push(m), info: () => undefined };
  const kb = new FakeRetriever(() => [passage('Le code du portail est 4821.')]);
  const rag = new Retrieval(kb, { k: 3 }, log as never, (o) => outcomes.push(o));
  return { kb, rag, warnings, outcomes };
}

describe('Retrieval', () => {
  it('gives the passages found within the budget', async () => {
    const { rag, outcomes } = setup();
    const got = await rag.within(rag.start('code du portail'), 200);
    expect(got.outcome).toBe('done');
    expect(got.passages.map((p) => p.text)).toEqual(['Le code du portail est 4821.']);
    expect(got.endedAt).toBeGreaterThanOrEqual(got.startedAt);
    expect(outcomes).toEqual(['done']);
  });

  it('a search that hangs is dropped at the budget, warned about once, and the next good one says so', async () => {
    const { kb, rag, warnings, outcomes } = setup();
    kb.mode = 'hang';
    const t0 = performance.now();
    const first = await rag.within(rag.start('code'), 50);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(first).toMatchObject({ outcome: 'dropped', passages: [] });
    await rag.within(rag.start('code'), 20);
    expect(warnings).toHaveLength(1);
    expect(outcomes).toEqual(['dropped', 'dropped']);
    kb.mode = 'answer';
    kb.release();
    expect((await rag.within(rag.start('code'), 200)).outcome).toBe('done');
  });

  it('a search that throws gives no passages, is counted as failed, and never rejects', async () => {
    const { kb, rag, warnings, outcomes } = setup();
    kb.mode = 'throw';
    const job = rag.start('code');
    await expect(job.result).resolves.toEqual([]);
    expect(await rag.within(job, 200)).toMatchObject({ outcome: 'failed', passages: [] });
    expect(warnings).toEqual(['knowledge base search failed: answers go on without it']);
    expect(outcomes).toEqual(['failed']);
  });
});
