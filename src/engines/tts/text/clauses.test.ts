import { describe, expect, it } from 'vitest';
import { SentenceSplitter } from '../../../pipeline/sentence-splitter.js';
import { splitSentences } from './clauses.js';

describe('splitSentences (the TTS engines’ unit)', () => {
  it('cuts as the streamed answer does: abbreviations and decimals are not sentence ends', () => {
    const text = 'M. Dupont arrive à 9 h. Il fait 12.5 degrés dehors ! Et toi ?';
    expect(splitSentences(text)).toEqual([
      'M. Dupont arrive à 9 h.',
      'Il fait 12.5 degrés dehors !',
      'Et toi ?',
    ]);
    const streamed = new SentenceSplitter({ firstClauseMinChars: 0 });
    expect([...streamed.push(text), ...streamed.flush()]).toEqual(splitSentences(text));
  });
  it('never leaves a run-on text as one piece', () => {
    const pieces = splitSentences('mot '.repeat(2000));
    expect(pieces.length).toBeGreaterThan(20);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(300);
  });
  it('drops pieces with nothing to say', () => {
    expect(splitSentences('... — !')).toEqual([]);
  });
});
