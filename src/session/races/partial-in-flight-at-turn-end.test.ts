import { describe, expect, it } from 'vitest';
import { FakeStt } from '../../testing/fake-engines.js';
import { paced, semanticSession, transcriptOf } from './helpers.js';

describe('race: a partial transcription is still running when the user stops speaking', () => {
  it('is dropped at the silence: the final transcription does not wait for it, nothing stale goes out', async () => {
    let slow = false;
    const stt = new FakeStt(
      () => ({ text: ' Ferme les volets du salon.' }),
      (call) =>
        slow ? { text: ' Ouvre tout', delayMs: 2000 } : call < 2 ? { text: ' Ferme les volets' } : {},
    );
    const { h } = await semanticSession({ stt, partialIntervalMs: 300 });
    await h.audio(1200, true, paced);
    slow = true;
    await h.audio(600, true, paced); // a slow partial starts
    const started = performance.now();
    await h.audio(800, false, paced);
    await h.waitFor('response.done');
    expect(performance.now() - started).toBeLessThan(1800); // did not wait for the slow partial
    await h.settled();
    const itemId = h.of('input_audio_buffer.committed')[0]!.item_id as string;
    const deltas = h
      .of('conversation.item.input_audio_transcription.delta')
      .filter((e) => e.item_id === itemId)
      .map((e) => e.delta as string);
    const completed = transcriptOf(h.of('conversation.item.input_audio_transcription.completed')[0]!);
    expect(completed).toBe('Ferme les volets du salon.');
    expect(deltas.join('')).toBe(completed);
    expect(deltas.join('')).not.toContain('Ouvre');
  });
});
