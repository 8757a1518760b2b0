import { describe, expect, it } from 'vitest';
import { FakeLlm } from '../testing/fake-engines.js';
import { SessionHarness } from '../testing/session-harness.js';
import { InvalidTransition } from './state.js';

const ask = async (h: SessionHarness, text: string) => {
  await h.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  await h.send({ type: 'response.create', response: { output_modalities: ['text'] } });
};

describe('a bug after response.done (a refused state transition)', () => {
  it('is no unhandled rejection: the client gets internal_error and the session answers the next turn', async () => {
    const h = await SessionHarness.create({ llm: new FakeLlm(() => ({ tokens: ['Oui', '.'] })) });
    const state = h.session.state;
    const to = state.to.bind(state);
    let thrown = 0;
    state.to = (next, reason) => {
      if (next === 'listening' && reason.startsWith('response') && thrown === 0) {
        thrown++;
        throw new InvalidTransition(`injected: ${reason}`);
      }
      to(next, reason);
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await ask(h, 'Ça va ?');
      const error = await h.waitFor('error');
      expect(error.error).toMatchObject({ code: 'internal_error', type: 'server_error' });
      expect(state.state).toBe('listening');
      await ask(h, 'Et toi ?');
      await h.waitFor('response.done', 2);
      await h.settled();
      expect(thrown).toBe(1);
      expect(h.of('response.done').map((e) => (e.response as { status: string }).status)).toEqual([
        'completed',
        'completed',
      ]);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
