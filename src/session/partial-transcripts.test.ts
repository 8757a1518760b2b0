import { describe, expect, it } from 'vitest';
import { FakeStt } from '../testing/fake-engines.js';
import { paced, semanticSession, transcriptOf } from './races/helpers.js';

const SENTENCE = " Allume la lumière du salon s'il te plaît".split(/(?= )/);
/** A partial transcript that knows two words per second of audio, as if it heard them. */
const growing = (_call: number, audioSec: number) => ({
  text: SENTENCE.slice(0, Math.floor(audioSec * 2)).join(''),
  delayMs: 10,
});
const deltasOf = (events: { type: string; delta?: unknown; item_id?: unknown }[], itemId: string) =>
  events
    .filter((e) => e.type === 'conversation.item.input_audio_transcription.delta' && e.item_id === itemId)
    .map((e) => e.delta as string);

describe('partial transcripts', () => {
  it('arrive while the user speaks, and add up to the final transcript', async () => {
    const stt = new FakeStt(() => ({ text: " Allume la lumière du salon, s'il te plaît." }), growing);
    const { h } = await semanticSession({ stt, partialIntervalMs: 300 });
    await h.audio(3000, true, paced);
    const itemId = h.of('input_audio_buffer.speech_started')[0]!.item_id as string;
    const whileSpeaking = deltasOf(h.events, itemId);
    expect(whileSpeaking.length).toBeGreaterThan(1);
    expect(whileSpeaking.join('')).toMatch(/^Allume la lumière/);
    await h.audio(800, false, paced);
    await h.waitFor('response.done');
    await h.settled();
    const [completed] = h.of('conversation.item.input_audio_transcription.completed');
    expect(completed!.item_id).toBe(itemId);
    // What was sent stands (here without the final transcription's comma); the rest follows it.
    expect(transcriptOf(completed!).startsWith(whileSpeaking.join(''))).toBe(true);
    expect(transcriptOf(completed!)).toMatch(/^Allume la lumière du salon,? s'il te plaît\.$/);
    expect(deltasOf(h.events, itemId).join('')).toBe(transcriptOf(completed!));
    // The last delta comes before the completed event; none after it.
    const types = h.types();
    expect(types.lastIndexOf('conversation.item.input_audio_transcription.delta')).toBeLessThan(
      types.indexOf('conversation.item.input_audio_transcription.completed'),
    );
    // The final transcription is the turn's own (not a partial's): one call on the live lane.
    expect(stt.calls).toHaveLength(1);
    expect(stt.partialCalls.length).toBeGreaterThan(2);
  });

  it('a turn too short for a partial still gets its transcript as one delta', async () => {
    const stt = new FakeStt(
      () => ({ text: ' Pause.' }),
      () => ({ text: ' Pause.' }),
    );
    const { h } = await semanticSession({ stt, partialIntervalMs: 300 });
    await h.audio(400, true, paced);
    await h.audio(800, false, paced);
    await h.waitFor('response.done');
    const itemId = h.of('input_audio_buffer.committed')[0]!.item_id as string;
    expect(deltasOf(h.events, itemId)).toEqual(['Pause.']);
  });
});
