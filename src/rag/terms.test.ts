import { describe, expect, it } from 'vitest';
import { indexTerms } from './terms.js';

describe('indexTerms (French)', () => {
  it('cuts elisions, drops stop words, stems and removes diacritics', () => {
    expect(indexTerms("L'ouverture de la laverie, c'est à quelle heure ?")).toEqual([
      'ouvertur',
      'laver',
      'heur',
    ]);
  });

  it('gives the same terms to the forms a question and a document use', () => {
    const same = (a: string, b: string) => expect(indexTerms(a)).toEqual(indexTerms(b));
    same('les lumières', 'la lumière');
    same('allumer', 'allume');
    same('Ramassage', 'ramassages');
    same("d'électricité", 'electricite');
  });

  it('keeps numbers, even short ones', () => {
    expect(indexTerms('Le code est 4821, bâtiment B, étage 3')).toEqual(['cod', '4821', 'bat', 'etag', '3']);
  });

  it('English when asked', () => {
    expect(indexTerms('Where are the washing machines?', 'en')).toEqual(['wash', 'machin']);
  });
});
