import { describe, expect, it } from 'vitest';
import { FakeStt } from '../../testing/fake-engines.js';
import { nothingBeforeCommit, paced, semanticSession, transcriptOf } from './helpers.js';

describe('race: the speculative transcript stops on "dans le", the model says complete, the user goes on', () => {
  it('holds the turn through a 0.9 s pause and answers the whole sentence', async () => {
    const stt = new FakeStt((call) =>
      call === 0
        ? { text: 'Allume toutes les lumières dans le' }
        : { text: 'Allume toutes les lumières dans le salon.' },
    );
    const { h, turn } = await semanticSession({ stt, probability: 0.99 });
    await h.audio(600, true, paced);
    await h.audio(900, false, paced);
    expect(turn.calls.length).toBeGreaterThanOrEqual(1);
    expect(h.of('input_audio_buffer.committed')).toHaveLength(0);
    await h.audio(400, true, paced);
    await h.audio(600, false, paced);
    await h.waitFor('response.done');
    await h.settled();
    nothingBeforeCommit(h);
    expect(h.of('input_audio_buffer.committed')).toHaveLength(1);
    expect(h.of('conversation.item.input_audio_transcription.completed').map(transcriptOf)).toEqual([
      'Allume toutes les lumières dans le salon.',
    ]);
  });

  it('ends the turn at the longest silence when the user does not go on', async () => {
    const stt = new FakeStt(() => ({ text: 'Allume toutes les lumières dans le' }));
    const { h } = await semanticSession({ stt, probability: 0.99 });
    await h.audio(600, true, paced);
    await h.audio(1300, false, paced);
    expect(h.of('input_audio_buffer.committed')).toHaveLength(0);
    await h.audio(400, false, paced);
    await h.waitFor('response.done');
    expect(h.of('input_audio_buffer.committed')).toHaveLength(1);
    // Transcribed once, at the pause; the response reused it.
    expect(stt.calls).toHaveLength(1);
  });
});
