import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { Retrieval } from '../rag/retrieval.js';
import { FakeLlm, FakeStt, FakeTurn } from '../testing/fake-engines.js';
import { FakeRetriever, passage } from '../testing/fake-retriever.js';
import { SessionHarness } from '../testing/session-harness.js';

const GUIDE = 'Le code du portail de la résidence est 4821.';

function knowledgeBase() {
  const kb = new FakeRetriever(() => [passage(GUIDE, 'residence.md')]);
  return { kb, rag: new Retrieval(kb, { k: 3 }, silentLogger) };
}

describe('answer prefill (llm.prefill): the prompt read while the turn ends', () => {
  it('the drafts, then the pause’s transcript, are prefilled with their passages; the answer gets the last prefilled prompt', async () => {
    const { rag } = knowledgeBase();
    const llm = new FakeLlm(() => ({ tokens: ['Le code est 4821.'] }));
    const h = await SessionHarness.create({
      rag,
      llm,
      turn: new FakeTurn(() => ({ probability: 0.95 })),
      fillers: false,
      stt: new FakeStt(
        () => ({ text: 'Quel est le code du portail ?', delayMs: 30 }),
        () => ({ text: 'Quel est le code du' }),
      ),
      config: { turns: { partialIntervalMs: 200 } },
    });
    await h.audio(1200, true, { paceMs: 5 });
    const beforeStop = llm.prefills.length;
    await h.audio(600, false, { paceMs: 2 });
    await h.waitFor('response.done');
    // A draft was prefilled while the user still spoke, with the passages found for it.
    expect(beforeStop).toBeGreaterThan(0);
    expect(llm.prefills[0]!.messages.at(-1)).toEqual({ role: 'user', content: 'Quel est le code du' });
    expect(llm.prefills[0]!.messages.at(-2)!.content).toContain(GUIDE);
    // The pause's transcript came last: the answer's prompt is the one the LLM read already.
    // (The one after the answer, for a next turn, ends with an empty user message.)
    const last = llm.prefills.filter((p) => p.messages.at(-1)!.content !== '').at(-1)!;
    expect(last.completed).toBe(true);
    expect(last.messages).toEqual(llm.calls[0]);
  });

  it('prefillAbortedWhenTheUserGoesOn: a prefill still running when speech resumes stops, and the answer is prompted with the whole turn', async () => {
    const llm = new FakeLlm(() => ({ tokens: ['Bien sûr.'] }));
    llm.prefillMs = 5000;
    const h = await SessionHarness.create({
      llm,
      // Unsure at the first pause, sure at the second.
      turn: new FakeTurn((call) => ({ probability: call === 0 ? 0.05 : 0.95 })),
      fillers: false,
      stt: new FakeStt((call) => ({
        text: call === 0 ? 'Allume la lumière' : 'Allume la lumière du salon.',
      })),
      config: { turns: { eagerness: 'low' } },
    });
    await h.audio(800, true, { paceMs: 2 });
    await h.audio(300, false, { paceMs: 2 }); // a pause the model finds unfinished
    expect(llm.prefills.map((p) => p.messages.at(-1)!.content)).toContain('Allume la lumière');
    await h.audio(600, true, { paceMs: 2 });
    expect(llm.prefills.find((p) => p.messages.at(-1)!.content === 'Allume la lumière')).toMatchObject({
      completed: false,
      aborted: true,
    });
    llm.prefillMs = 5;
    await h.audio(900, false, { paceMs: 2 });
    await h.waitFor('response.done');
    expect(llm.calls[0]!.at(-1)).toEqual({ role: 'user', content: 'Allume la lumière du salon.' });
  });

  it('after an answer from passages is heard, the conversation with them is prefilled for a next turn on the same topic', async () => {
    const { rag } = knowledgeBase();
    const llm = new FakeLlm(() => ({ tokens: ['Le code est 4821.'] }));
    const h = await SessionHarness.create({
      rag,
      llm,
      turn: new FakeTurn(),
      fillers: false,
      stt: new FakeStt((call) => ({ text: call === 0 ? 'Quel est le code du portail ?' : 'Et du garage ?' })),
    });
    await h.turn();
    await h.waitFor('response.done');
    await new Promise((r) => setTimeout(r, 20));
    const next = llm.prefills.at(-1)!;
    expect(next.messages.at(-1)).toEqual({ role: 'user', content: '' });
    expect(next.messages.at(-2)!.content).toContain(GUIDE);
    expect(next.messages.at(-3)).toEqual({ role: 'assistant', content: 'Le code est 4821.' });
    await h.turn();
    await h.waitFor('response.done', 2);
    // The next answer's prompt is that one, with the user's words: only they are new to the LLM.
    expect(llm.calls[1]!.slice(0, -1)).toEqual(next.messages.slice(0, -1));
    expect(llm.calls[1]!.at(-1)).toEqual({ role: 'user', content: 'Et du garage ?' });
  });

  it('no prefill with llm.prefill off', async () => {
    const llm = new FakeLlm();
    const h = await SessionHarness.create({ llm, turn: new FakeTurn(), config: { llm: { prefill: false } } });
    await h.turn();
    await h.waitFor('response.done');
    expect(llm.calls).toHaveLength(1);
    expect(llm.prefills).toEqual([]);
  });
});
