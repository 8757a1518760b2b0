import { describe, expect, it } from 'vitest';
import { FakeStt } from '../../testing/fake-engines.js';
import { nothingBeforeCommit, paced, semanticSession, transcriptOf } from './helpers.js';

describe('race: the user goes on while the speculative transcription of a pause runs', () => {
  it('drops it without a trace and answers the whole turn once', async () => {
    const stt = new FakeStt((call) =>
      call === 0
        ? { text: 'Allume la lumière', delayMs: 400 }
        : { text: 'Allume la lumière dans la chambre.' },
    );
    const { h } = await semanticSession({ stt });
    await h.audio(400, true, paced);
    await h.audio(300, false, paced); // a pause: the model is asked, the turn is transcribed
    expect(stt.calls).toHaveLength(1);
    await h.audio(400, true, paced); // the user goes on before the transcript lands
    expect(stt.calls[0]!.signal?.aborted).toBe(true);
    await h.audio(600, false, paced);
    const done = await h.waitFor('response.done');
    expect((done.response as { status: string }).status).toBe('completed');
    await h.settled();
    nothingBeforeCommit(h);
    expect(h.of('input_audio_buffer.speech_started')).toHaveLength(1);
    expect(h.of('input_audio_buffer.speech_stopped')).toHaveLength(1);
    expect(h.of('input_audio_buffer.committed')).toHaveLength(1);
    expect(h.of('response.created')).toHaveLength(1);
    const transcripts = h.of('conversation.item.input_audio_transcription.completed').map(transcriptOf);
    expect(transcripts).toEqual(['Allume la lumière dans la chambre.']);
    // The second transcription heard both halves of the turn.
    expect(stt.calls[1]!.audioSec).toBeGreaterThan(stt.calls[0]!.audioSec + 0.6);
    expect(stt.calls).toHaveLength(2);
  });
});
