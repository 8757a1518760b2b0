import { describe, expect, it } from 'vitest';
import { normalizeFrench } from './normalize-fr.js';
import { frenchInteger, frenchOrdinal } from './numbers-fr.js';

describe('French numbers', () => {
  it.each([
    [0, 'zéro'],
    [1, 'un'],
    [17, 'dix-sept'],
    [21, 'vingt et un'],
    [71, 'soixante et onze'],
    [77, 'soixante-dix-sept'],
    [80, 'quatre-vingts'],
    [81, 'quatre-vingt-un'],
    [91, 'quatre-vingt-onze'],
    [100, 'cent'],
    [200, 'deux cents'],
    [201, 'deux cent un'],
    [1000, 'mille'],
    [2026, 'deux mille vingt-six'],
    [80_000, 'quatre-vingt mille'],
    [1_500_000, 'un million cinq cent mille'],
  ])('%i → %s', (n, words) => expect(frenchInteger(n)).toBe(words));

  it('ordinals', () => {
    expect(frenchOrdinal(1)).toBe('premier');
    expect(frenchOrdinal(1, 'f')).toBe('première');
    expect(frenchOrdinal(5)).toBe('cinquième');
    expect(frenchOrdinal(9)).toBe('neuvième');
    expect(frenchOrdinal(21)).toBe('vingt et unième');
    expect(frenchOrdinal(80)).toBe('quatre-vingtième');
  });
});

describe('normalizeFrench', () => {
  it.each([
    ['Rendez-vous à 21 h 30.', 'Rendez-vous à vingt et une heures trente.'],
    ['Le train part à 8h05, arrive à 1 h.', 'Le train part à huit heures cinq, arrive à une heure.'],
    ['Il est 12:00.', 'Il est douze heures.'],
    [
      'M. Dupont et Mme Martin voient le Dr Roux.',
      'monsieur Dupont et madame Martin voient le docteur Roux.',
    ],
    ['Le 1er mai, la 2e fois.', 'Le premier mai, la deuxième fois.'],
    ['Né le 23/11/2026.', 'Né le vingt-trois novembre deux mille vingt-six.'],
    ['Allume la chambre à 80 %.', 'Allume la chambre à quatre-vingts pour cent.'],
    ['Ça coûte 12,50 € ou 3 €.', 'Ça coûte douze euros cinquante ou trois euros.'],
    [
      'Il fait -3 °C et 3,5 km à pied.',
      'Il fait moins trois degrés et trois virgule cinq kilomètres à pied.',
    ],
    ['Pommes, poires, etc.', 'Pommes, poires, et cetera.'],
    ['Il y a 1 000 000 habitants.', 'Il y a un million habitants.'],
    ['Minuteur 20 min.', 'Minuteur vingt minutes.'],
  ])('%s', (input, expected) => expect(normalizeFrench(input)).toBe(expected));
});
