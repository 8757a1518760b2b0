import { describe, expect, it } from 'vitest';
import { FakeLlm, FakeTts } from '../../testing/fake-engines.js';
import { SessionHarness } from '../../testing/session-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server's VAD stops the answer first (`speech_started`), cutting the item where its pacer
 * estimates playback was; the client's `conversation.item.truncate` comes next with what it really
 * played, which may be more than that estimate (its playback started earlier than modelled, or
 * the estimate lags). The client's figure wins: it was refused as "beyond the audio sent".
 */
describe('truncateAfterServerBargeIn', () => {
  it("the client's truncate after the server cut the answer by its estimate sets the history to what was played", async () => {
    const h = await SessionHarness.create({
      fillers: false,
      tts: new FakeTts(() => ({ msPerChar: 40 })), // ~1 s of audio per sentence
      llm: new FakeLlm((call) =>
        call === 0 ? { tokens: ['Un deux trois quatre cinq. ', 'Six sept huit neuf dix.'] } : {},
      ),
    });
    await h.turn();
    const delta = await h.waitFor('response.output_audio.delta');
    await sleep(600);
    await h.turn(); // speech_started: the server cancels with its pacer's estimate
    await h.waitFor('response.done');
    const item = h.session.conversation.all().find((i) => i.role === 'assistant')!;
    const estimated = item.audioMs;
    const estimatedWords = item.text.split(/\s+/).length;
    expect(estimated).toBeLessThan(1200);
    // The client says it played 300 ms more than the server thought.
    await h.send({
      type: 'conversation.item.truncate',
      item_id: delta.item_id,
      content_index: 0,
      audio_end_ms: Math.round(estimated) + 300,
    });
    const truncated = await h.waitFor('conversation.item.truncated');
    expect(truncated.audio_end_ms).toBe(Math.round(estimated) + 300);
    expect(h.of('error')).toEqual([]);
    expect(item.audioMs).toBe(Math.round(estimated) + 300);
    expect(item.text.split(/\s+/).length).toBeGreaterThan(estimatedWords);
    // Never beyond what was really sent.
    await h.send({
      type: 'conversation.item.truncate',
      item_id: delta.item_id,
      content_index: 0,
      audio_end_ms: 60_000,
    });
    expect(((await h.waitFor('error')).error as { code: string }).code).toBe('item_not_truncatable');
  });
});
