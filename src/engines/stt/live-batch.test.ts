import { describe, expect, it } from 'vitest';
import { fitsOneWindow, joinTurns, splitTurns } from './live-batch.js';

describe('two voice turns in one Whisper window', () => {
  it('fit when both, the 1 s gap and a margin hold in the encoder context', () => {
    expect(fitsOneWindow(3, 3.4, 400)).toBe(true); // 7.9 s of 8
    expect(fitsOneWindow(3, 3.6, 400)).toBe(false);
  });

  it('are joined with a second of silence between them', () => {
    const all = joinTurns(new Float32Array([1, 1]), new Float32Array([2]), 4);
    expect([...all]).toEqual([1, 1, 0, 0, 0, 0, 2]);
  });

  it('split back by the middle of each segment, the second turn on its own clock', () => {
    const parts = splitTurns(
      {
        result: ' Allume la lumière. Ouvre les volets.',
        language: 'fr',
        isAborted: false,
        segments: [
          { text: ' Allume la lumière.', t0: 0, t1: 3000 }, // ends past the turn: its middle does not
          { text: ' Ouvre les volets.', t0: 3000, t1: 5000 },
        ],
      },
      2,
    );
    expect(parts?.map((p) => p.result)).toEqual([' Allume la lumière.', ' Ouvre les volets.']);
    expect(parts?.[1].segments).toEqual([{ text: ' Ouvre les volets.', t0: 0, t1: 2000 }]);
    expect(parts?.[1].language).toBe('fr');
  });

  it('is refused when a turn got no segment: Whisper ran them together', () => {
    const merged = splitTurns(
      {
        result: ' Allume la lumière ouvre les volets.',
        isAborted: false,
        segments: [{ text: ' x', t0: 0, t1: 4000 }],
      },
      2,
    );
    expect(merged).toBeUndefined();
  });
});
