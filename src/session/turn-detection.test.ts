import { describe, expect, it } from 'vitest';
import { FakeTurn } from '../testing/fake-engines.js';
import { SessionHarness } from '../testing/session-harness.js';

type Td = Record<string, unknown> | null;
const tdOf = (e: Record<string, unknown>) =>
  (e.session as { audio: { input: { turn_detection: Td } } }).audio.input.turn_detection;

describe('turn_detection settings', () => {
  it('defaults to semantic_vad (eagerness auto) when the end-of-turn model is loaded', async () => {
    const h = await SessionHarness.create({ turn: new FakeTurn() });
    expect(tdOf(h.events[0]!)).toEqual({
      type: 'semantic_vad',
      eagerness: 'auto',
      create_response: true,
      interrupt_response: true,
    });
  });

  it('without the model, sessions run server_vad and say so, also when a client asks for semantic_vad', async () => {
    const h = await SessionHarness.create();
    expect(tdOf(h.events[0]!)!.type).toBe('server_vad');
    await h.send({
      type: 'session.update',
      session: { audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'low' } } } },
    });
    expect(tdOf(await h.waitFor('session.updated'))!.type).toBe('server_vad');
  });

  it('switches between semantic_vad and server_vad, keeping eagerness and silence', async () => {
    const h = await SessionHarness.create({ turn: new FakeTurn() });
    await h.send({
      type: 'session.update',
      session: { audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } } } },
    });
    expect(tdOf(await h.waitFor('session.updated'))).toMatchObject({
      type: 'semantic_vad',
      eagerness: 'high',
    });
    await h.send({
      type: 'session.update',
      session: { audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 700 } } } },
    });
    expect(tdOf(await h.waitFor('session.updated', 2))).toMatchObject({
      type: 'server_vad',
      silence_duration_ms: 700,
    });
  });

  it.each([
    [{ type: 'smart_vad' }, 'session.audio.input.turn_detection.type'],
    [{ type: 'semantic_vad', eagerness: 'eager' }, 'session.audio.input.turn_detection.eagerness'],
  ])('refuses turn_detection %j with invalid_event, and the session goes on', async (td, param) => {
    const h = await SessionHarness.create({ turn: new FakeTurn() });
    await h.send({ type: 'session.update', session: { audio: { input: { turn_detection: td } } } });
    const error = (await h.waitFor('error')).error as { code: string; param: string };
    expect(error).toMatchObject({ code: 'invalid_event', param });
    expect(h.of('session.updated')).toHaveLength(0);
    await h.turn();
    await h.audio(1500, false, { paceMs: 2 });
    expect((await h.waitFor('response.done')).response).toMatchObject({ status: 'completed' });
  });
});
