import { describe, expect, it } from 'vitest';
import { FakeLlm, FakeStt } from '../../testing/fake-engines.js';
import { paced, semanticSession, transcriptOf } from './helpers.js';

describe('race: the user interrupts an answer with a turn that pauses and goes on', () => {
  it('cuts the answer at the first speech, drops the pause, and answers the whole new turn once', async () => {
    const stt = new FakeStt((call) =>
      call === 0
        ? { text: 'Quelle heure est-il ?' }
        : call === 1
          ? { text: 'Non, attends,', delayMs: 300 }
          : { text: 'Non, attends, allume la lumière.' },
    );
    const long = Array.from({ length: 40 }, (_, i) => `Phrase numéro ${i}. `);
    const llm = new FakeLlm((call) => (call === 0 ? { tokens: long } : { tokens: ['Voilà.'] }));
    const { h } = await semanticSession({ stt, llm });
    await h.audio(400, true, paced);
    await h.audio(300, false, paced);
    await h.waitFor('response.output_audio_transcript.delta');
    await h.audio(400, true, paced); // barge-in
    const first = await h.waitFor('response.done');
    expect((first.response as { status: string }).status).toBe('cancelled');
    await h.audio(300, false, paced); // pause: speculative transcription (call 1) runs
    await h.audio(400, true, paced); // goes on
    await h.audio(600, false, paced);
    const second = await h.waitFor('response.done', 2);
    expect((second.response as { status: string }).status).toBe('completed');
    await h.settled();
    expect(h.of('response.created')).toHaveLength(2);
    expect(h.of('input_audio_buffer.speech_started')).toHaveLength(2);
    expect(h.of('input_audio_buffer.committed')).toHaveLength(2);
    expect(h.of('conversation.item.input_audio_transcription.completed').map(transcriptOf)).toEqual([
      'Quelle heure est-il ?',
      'Non, attends, allume la lumière.',
    ]);
    expect(h.session.state.state).toBe('listening');
  });
});
