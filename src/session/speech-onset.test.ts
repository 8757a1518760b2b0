import { describe, expect, it } from 'vitest';
import { FakeLlm, FakeTts } from '../testing/fake-engines.js';
import { SessionHarness } from '../testing/session-harness.js';

/** A session whose answer plays for seconds, the VAD needing 200 ms of voice to call it speech. */
async function answering(speechOnset: boolean | undefined) {
  const h = await SessionHarness.create({
    fillers: false,
    tts: new FakeTts(() => ({ msPerChar: 40 })),
    llm: new FakeLlm((call) =>
      call === 0 ? { tokens: ['Une longue réponse qui dure. ', 'Et qui dure encore un peu.'] } : {},
    ),
    config: { vad: { minSpeechMs: 200 } },
  });
  if (speechOnset !== undefined)
    await h.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: { x_speech_onset: speechOnset } } } },
    });
  await h.turn();
  await h.waitFor('response.output_audio.delta');
  return h;
}

describe('x_speech_onset', () => {
  it('is shown in the session when asked for, and not otherwise', async () => {
    const td = (h: SessionHarness) =>
      (h.of('session.updated').at(-1)!.session as { audio: { input: { turn_detection: object } } }).audio
        .input.turn_detection;
    const on = await answering(true);
    expect(td(on)).toMatchObject({ x_speech_onset: true });
    const off = await answering(false);
    expect(td(off)).not.toHaveProperty('x_speech_onset');
  });

  it('voice too short to be speech: onset, then dropped, and the answer plays on', async () => {
    const h = await answering(true);
    await h.audio(60, true);
    await h.audio(200, false);
    const onset = await h.waitFor('input_audio_buffer.x_speech_onset');
    const dropped = await h.waitFor('input_audio_buffer.x_speech_onset_dropped');
    expect(dropped.audio_end_ms as number).toBeGreaterThan(onset.audio_start_ms as number);
    expect(h.of('input_audio_buffer.speech_started')).toHaveLength(1); // the first turn's only
    const done = await h.waitFor('response.done', 1, 10_000);
    expect((done.response as { status: string }).status).toBe('completed');
  });

  it('voice that becomes speech: onset first, then speech_started (no dropped), and the answer stops', async () => {
    const h = await answering(true);
    const from = h.events.length;
    await h.turn(400);
    await h.waitFor('input_audio_buffer.speech_started', 2);
    const after = h.types().slice(from);
    expect(after.indexOf('input_audio_buffer.x_speech_onset')).toBeGreaterThanOrEqual(0);
    expect(after.indexOf('input_audio_buffer.x_speech_onset')).toBeLessThan(
      after.indexOf('input_audio_buffer.speech_started'),
    );
    expect(after).not.toContain('input_audio_buffer.x_speech_onset_dropped');
    const onset = h.of('input_audio_buffer.x_speech_onset')[0]!;
    const started = h.of('input_audio_buffer.speech_started')[1]!;
    // The onset is the speech's first frame; speech_started counts back the prefix padding too.
    expect(onset.audio_start_ms as number).toBeGreaterThanOrEqual(started.audio_start_ms as number);
    const done = await h.waitFor('response.done');
    expect((done.response as { status: string }).status).toBe('cancelled');
  });

  it('is not sent unless asked for, nor when no answer plays', async () => {
    const off = await answering(undefined);
    await off.turn(400);
    await off.waitFor('input_audio_buffer.speech_started', 2);
    expect(off.types()).not.toContain('input_audio_buffer.x_speech_onset');

    const idle = await SessionHarness.create({ fillers: false });
    await idle.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: { x_speech_onset: true } } } },
    });
    await idle.turn();
    await idle.waitFor('input_audio_buffer.speech_started');
    expect(idle.types()).not.toContain('input_audio_buffer.x_speech_onset');
  });
});
