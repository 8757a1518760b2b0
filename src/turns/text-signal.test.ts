import { describe, expect, it } from 'vitest';
import { unfinishedClause } from './text-signal.js';

describe('unfinishedClause', () => {
  it.each([
    ['Allume toutes les lumières dans le', 'fr'],
    ['Allume toutes les lumières dans le.', 'fr'],
    ['Règle la luminosité dans', 'fr'],
    ["Ouvre l'", 'fr'],
    ['Éteins la lumière et', 'fr'],
    ['Je', 'fr'],
    ['Allume les lumières du...', 'fr'],
    ['Allume la lumière,', 'fr'],
    ['Turn off the lights in the', 'en'],
    ['et il semblerait que', 'auto'],
    ['Supprime', 'fr'],
  ])('"%s" (%s) is unfinished', (text, language) => {
    expect(unfinishedClause(text, language)).toBeDefined();
  });

  it.each([
    ['Allume la lumière.', 'fr'],
    ['Quelle heure est-il ?', 'fr'],
    ['Combien fait-il dans le bureau ?', 'fr'],
    ['Ouvre tous les volets.', 'fr'],
    ['', 'fr'],
    ['What time is it?', 'en'],
    ['Turn off the lights!', 'auto'],
  ])('"%s" (%s) may end a turn', (text, language) => {
    expect(unfinishedClause(text, language)).toBeUndefined();
  });
});
