import { describe, expect, it } from 'vitest';
import type { TtsEngine } from '../engines/tts/types.js';
import { silentLogger } from '../log.js';
import { FakeTts } from '../testing/fake-engines.js';
import { FillerBank } from './fillers.js';

describe('FillerBank.pick', () => {
  it('never picks the same filler twice in a row, and only short ones when asked', async () => {
    const tts = new FakeTts();
    const voices = new Map<string, TtsEngine>([['v', tts]]);
    const bank = await FillerBank.build(
      voices,
      { fr: ['Hum.', 'Alors.', 'Hum, laissez-moi regarder tout cela…'] },
      silentLogger,
    );
    const ms = (text: string) => {
      const f = bank.all().find((x) => x.text === text)!;
      return (f.samples.length * 1000) / f.sampleRate;
    };
    const long = ms('Hum, laissez-moi regarder tout cela…');
    const short = Math.max(ms('Hum.'), ms('Alors.'));
    expect(long).toBeGreaterThan(short);
    let previous = '';
    for (let i = 0; i < 30; i++) {
      const text = bank.pick('v')!.text;
      expect(text).not.toBe(previous);
      previous = text;
    }
    for (let i = 0; i < 30; i++)
      expect(bank.pick('v', short)!.text).not.toBe('Hum, laissez-moi regarder tout cela…');
    // Nothing that short: the shortest one.
    const shortest = ms('Hum.') <= ms('Alors.') ? 'Hum.' : 'Alors.';
    expect(bank.pick('v', 1)!.text).toBe(shortest);
    expect(bank.pick('missing')).toBeUndefined();
  });
});
