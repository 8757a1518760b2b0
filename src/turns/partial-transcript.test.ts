import { describe, expect, it } from 'vitest';
import { FakeStt } from '../testing/fake-engines.js';
import type { Transcript } from '../engines/stt/types.js';
import { PartialTranscriber, mergeFinal, splitWords, stableCount } from './partial-transcript.js';

const t = (text: string): Transcript => ({
  text,
  language: 'fr',
  segments: [],
  timing: { audioSec: 1, vadMs: 0, decodeMs: 0, totalMs: 0, rtf: 0, audioCtx: 0 },
});
const w = splitWords;

describe('stableCount (local agreement)', () => {
  it('keeps the words two transcriptions agree on from the start, never the newest last word', () => {
    expect(stableCount(w(' Allume la'), w(' Allume la lumière'), 0)).toBe(2);
    expect(stableCount(w(' Allume la lumière'), w(' Allume la lumière.'), 0)).toBe(2);
    expect(stableCount(w(' Allume,'), w(' allume la'), 0)).toBe(1);
    expect(stableCount(w(' Ferme'), w(' Allume la'), 0)).toBe(0);
  });
  it('never takes back what was confirmed', () => {
    expect(stableCount(w(' Allume la'), w(' Ferme le volet'), 2)).toBe(2);
  });
});

describe('mergeFinal', () => {
  it('appends what the final transcript says after the words already sent', () => {
    expect(mergeFinal(w(' Allume la'), ' Allume la lumière du salon.')).toEqual({
      text: 'Allume la lumière du salon.',
      rest: ' lumière du salon.',
    });
  });
  it('keeps the sent words where the final transcript heard them otherwise', () => {
    const m = mergeFinal(w(' Étant toutes'), ' Éteins toutes les lumières.');
    expect(m.text).toBe('Étant toutes les lumières.');
    expect(m.rest).toBe(' les lumières.');
  });
  it('replaces the misheard words it sent, never repeats them', () => {
    expect(mergeFinal(w(' fermé'), ' Fermez les rideaux.').text).toBe('fermé les rideaux.');
    expect(mergeFinal(w(' volume le'), ' Allume la chambre à 80%.').text).toBe('volume le chambre à 80%.');
  });
  it('loses nothing when the final transcript is empty, and sends it whole when nothing was sent', () => {
    expect(mergeFinal(w(' Allume la'), '')).toEqual({ text: 'Allume la', rest: '' });
    expect(mergeFinal([], ' Bonjour.')).toEqual({ text: 'Bonjour.', rest: 'Bonjour.' });
  });
});

describe('PartialTranscriber', () => {
  it('sends stable words once, in order, and merges the final transcript onto them', () => {
    const p = new PartialTranscriber(new FakeStt(), { language: 'fr', intervalMs: 500 });
    expect(p.accept(t(' Allume'))).toBe('');
    expect(p.accept(t(' Allume la'))).toBe('Allume');
    expect(p.accept(t(' Allume la lumière'))).toBe(' la');
    expect(p.accept(t(' Allume la lumière'))).toBe('');
    expect(p.accept(t(' Allume la lumière du'))).toBe(' lumière');
    expect(p.sentText).toBe('Allume la lumière');
    const { transcript, rest } = p.merge(t(' Allume la lumière du salon.'));
    expect(transcript.text).toBe('Allume la lumière du salon.');
    expect(p.sentText + rest).toBe(transcript.text);
  });

  it('transcribes on the partial lane, one decode at a time, once the turn grew by the interval', async () => {
    const stt = new FakeStt(undefined, () => ({ text: ' Allume la', delayMs: 20 }));
    const p = new PartialTranscriber(stt, { language: 'fr', intervalMs: 500 });
    const landed: string[] = [];
    const audio = (n: number) => () => ({ samples: new Float32Array(n), sampleRate: 16000 });
    p.maybeRun(audio(12000), 12000, 16000, (r) => landed.push(r.text)); // 750 ms: too short
    expect(stt.partialCalls).toHaveLength(0);
    p.maybeRun(audio(16000), 16000, 16000, (r) => landed.push(r.text));
    p.maybeRun(audio(24000), 24000, 16000, (r) => landed.push(r.text)); // one is running
    expect(stt.partialCalls).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(landed).toEqual([' Allume la']);
    p.maybeRun(audio(24000), 24000, 16000, (r) => landed.push(r.text));
    p.hold(); // silence: the decode in flight is dropped and never lands
    await new Promise((r) => setTimeout(r, 40));
    expect(stt.partialCalls).toHaveLength(2);
    expect(landed).toHaveLength(1);
    expect(stt.calls).toHaveLength(0);
  });
});
