import { describe, expect, it } from 'vitest';
import { FakeLlm, FakeTts } from '../../testing/fake-engines.js';
import { SessionHarness } from '../../testing/session-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server's VAD stops the answer first (`speech_started`), cutting the item where its pacer
 * estimates playback was; the client's `conversation.item.truncate` comes next with what it really
 * played, which may be more than that estimate (up to the audio lead it had received). The
 * client's figure wins, within the audio really sent: it was refused as "beyond the audio sent".
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
    // The client played all it received: more than the server's estimate (by up to the lead).
    const receivedMs = Math.floor(
      h
        .of('response.output_audio.delta')
        .filter((e) => e.item_id === delta.item_id)
        .reduce((n, e) => n + Buffer.from(e.delta as string, 'base64').length, 0) / 48,
    );
    expect(receivedMs).toBeGreaterThan(estimated);
    await h.send({
      type: 'conversation.item.truncate',
      item_id: delta.item_id,
      content_index: 0,
      audio_end_ms: receivedMs,
    });
    const truncated = await h.waitFor('conversation.item.truncated');
    expect(truncated.audio_end_ms).toBe(receivedMs);
    expect(h.of('error')).toEqual([]);
    expect(item.audioMs).toBe(receivedMs);
    expect(item.text.split(/\s+/).length).toBeGreaterThanOrEqual(estimatedWords);
    // Never beyond what was really sent.
    await h.send({
      type: 'conversation.item.truncate',
      item_id: delta.item_id,
      content_index: 0,
      audio_end_ms: receivedMs + 100,
    });
    expect(((await h.waitFor('error')).error as { code: string }).code).toBe('item_not_truncatable');
  });
});
