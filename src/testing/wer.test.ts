import { describe, expect, it } from 'vitest';
import { corpusWer, editDistance, normaliseForWer } from './wer.js';

describe('WER', () => {
  it('normalises case, punctuation, apostrophes, hyphens, percent and small numbers', () => {
    expect(normaliseForWer("Déverrouille la porte d'entrée.")).toEqual([
      'déverrouille',
      'la',
      'porte',
      'd',
      'entrée',
    ]);
    expect(normaliseForWer('Combien de temps reste-t-il ?')).toEqual([
      'combien',
      'de',
      'temps',
      'reste',
      't',
      'il',
    ]);
    expect(normaliseForWer('Allume la chambre à 80%')).toEqual(
      normaliseForWer('allume la chambre à quatre-vingts pour cent'),
    );
    expect(normaliseForWer('Minuteur, une heure.')).toEqual(['minuteur', '1', 'heure']);
  });

  it('counts substitutions, insertions and deletions', () => {
    expect(editDistance(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toBe(2);
    expect(editDistance([], ['a'])).toBe(1);
    expect(
      corpusWer([
        { reference: 'ouvre les volets', hypothesis: 'Ouvre les volets.' },
        { reference: 'ferme tous les volets', hypothesis: 'ferme les volets' },
      ]),
    ).toEqual({ wer: 1 / 7, edits: 1, words: 7 });
  });
});
