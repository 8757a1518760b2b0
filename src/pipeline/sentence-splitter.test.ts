import { describe, expect, it } from 'vitest';
import { SentenceSplitter, type SentenceSplitterOptions } from './sentence-splitter.js';
import { prng as random } from '../testing/prng.js';

interface Case {
  name: string;
  input: string;
  expected: string[];
  options?: SentenceSplitterOptions;
}

const crepes =
  'Pour préparer une bonne pâte à crêpes maison, il faut de la farine, des œufs et du lait. Ensuite, on mélange bien.';

const cases: Case[] = [
  {
    name: 'French sentences',
    input: 'Bonjour. Comment allez-vous ?',
    expected: ['Bonjour.', 'Comment allez-vous ?'],
  },
  {
    name: 'English sentences',
    input: "Hello there! How are you? I'm fine.",
    expected: ['Hello there!', 'How are you?', "I'm fine."],
  },
  {
    name: 'punctuation runs stay together',
    input: 'Quoi ?! Non !! Si.',
    expected: ['Quoi ?!', 'Non !!', 'Si.'],
  },
  { name: 'ellipsis "..."', input: 'Attendez... Je regarde.', expected: ['Attendez...', 'Je regarde.'] },
  { name: 'ellipsis "…"', input: 'Hmm… Bon. D’accord…', expected: ['Hmm…', 'Bon.', 'D’accord…'] },
  {
    name: 'ellipsis or "!" followed by a lowercase word',
    input: 'Attendez... je regarde. Oh ! la la. Wait... what? No.',
    expected: ['Attendez... je regarde.', 'Oh ! la la.', 'Wait... what?', 'No.'],
  },
  {
    name: 'time "21 h 30"',
    input: 'Il est 21 h 30. Ferme les volets.',
    expected: ['Il est 21 h 30.', 'Ferme les volets.'],
  },
  {
    name: 'times "21h30" and "21:30" (no clause cut at the colon)',
    input: 'Départ à 21h30 ou 21:30, pas avant. Merci.',
    options: { firstClauseMinChars: 5 },
    expected: ['Départ à 21h30 ou 21:30,', 'pas avant.', 'Merci.'],
  },
  {
    name: 'decimal comma',
    input: "Le taux est de 3,5 %. C'est bien.",
    expected: ['Le taux est de 3,5 %.', "C'est bien."],
  },
  {
    name: 'decimal dot',
    input: 'Version 3.5 is out. Update now.',
    expected: ['Version 3.5 is out.', 'Update now.'],
  },
  {
    name: 'French titles',
    input: 'M. Dupont et Mme Martin arrivent. Ils sont là.',
    expected: ['M. Dupont et Mme Martin arrivent.', 'Ils sont là.'],
  },
  {
    name: 'more French titles',
    input: 'Le Dr. Martin et le Pr. Durand voient Mlle. Petit avec Mme. Roux et MM. Blanc. Ensuite on part.',
    expected: [
      'Le Dr. Martin et le Pr. Durand voient Mlle. Petit avec Mme. Roux et MM. Blanc.',
      'Ensuite on part.',
    ],
  },
  {
    name: 'English titles and "vs."',
    input: 'Mr. Smith and Mrs. Jones met Ms. Lee vs. Dr. Who. They left.',
    expected: ['Mr. Smith and Mrs. Jones met Ms. Lee vs. Dr. Who.', 'They left.'],
  },
  {
    name: '"e.g." and "i.e."',
    input: 'Use a tool, e.g. a hammer, i.e. something heavy. Then hit.',
    expected: ['Use a tool, e.g. a hammer, i.e. something heavy.', 'Then hit.'],
  },
  {
    name: '"p. ex."',
    input: 'Voir p. ex. le chapitre 2. Ensuite…',
    expected: ['Voir p. ex. le chapitre 2.', 'Ensuite…'],
  },
  {
    name: '"cf.", "env.", "av.", "St."',
    input: 'Cf. la note, env. 3 km av. la gare St. Michel. Puis à droite.',
    expected: ['Cf. la note, env. 3 km av. la gare St. Michel.', 'Puis à droite.'],
  },
  {
    name: '"etc." before a lowercase word, a number, an uppercase word',
    input:
      'Des pommes, des poires, etc. et du pain. Les pages 3, 4, etc. 12 en tout. Il y a des chaises etc. Puis on part.',
    expected: [
      'Des pommes, des poires, etc. et du pain.',
      'Les pages 3, 4, etc. 12 en tout.',
      'Il y a des chaises etc.',
      'Puis on part.',
    ],
  },
  {
    name: 'initials, but not the English "I"',
    input: 'J. Dupont et J. R. R. Tolkien sont là. So do I. Bonjour.',
    expected: ['J. Dupont et J. R. R. Tolkien sont là.', 'So do I.', 'Bonjour.'],
  },
  {
    name: 'URL and e-mail',
    input: 'Allez sur exemple.fr ou écrivez à jean.dupont@exemple.fr. Merci !',
    expected: ['Allez sur exemple.fr ou écrivez à jean.dupont@exemple.fr.', 'Merci !'],
  },
  {
    name: '"n°" and ordinals',
    input: 'Le n° 5 est arrivé 1er. Le 2e est là.',
    expected: ['Le n° 5 est arrivé 1er.', 'Le 2e est là.'],
  },
  { name: 'space before "?"', input: 'Vraiment ? Oui.', expected: ['Vraiment ?', 'Oui.'] },
  {
    name: 'non-breaking spaces',
    input: 'Vraiment\u00a0? Oui\u202f!',
    expected: ['Vraiment ?', 'Oui !'],
  },
  {
    name: '« ! » followed by a lowercase word',
    input: 'Il a dit « Bonjour ! » puis il est parti.',
    expected: ['Il a dit « Bonjour ! » puis il est parti.'],
  },
  {
    name: '« ! » followed by an uppercase word',
    input: "Il a crié « Stop ! » Tout le monde s'est arrêté.",
    expected: ['Il a crié « Stop ! »', "Tout le monde s'est arrêté."],
  },
  {
    name: 'sentence end inside an open « »',
    input: '« Bonjour ! Comment vas-tu ? » dit-il.',
    expected: ['« Bonjour !', 'Comment vas-tu ? » dit-il.'],
  },
  {
    name: 'English quotes',
    input: 'He said "Stop!" and left. She said “Hi.” Then she sat.',
    expected: ['He said "Stop!" and left.', 'She said “Hi.”', 'Then she sat.'],
  },
  {
    name: 'parentheses',
    input: 'Il part (enfin !) Demain il revient. (Voir plus bas.) Fin.',
    expected: ['Il part (enfin !)', 'Demain il revient.', '(Voir plus bas.)', 'Fin.'],
  },
  {
    name: 'first clause at the default 40 characters, then whole sentences',
    input: crepes,
    expected: [
      'Pour préparer une bonne pâte à crêpes maison,',
      'il faut de la farine, des œufs et du lait.',
      'Ensuite, on mélange bien.',
    ],
  },
  {
    name: 'first clause disabled',
    input: crepes,
    options: { firstClauseMinChars: 0 },
    expected: [
      'Pour préparer une bonne pâte à crêpes maison, il faut de la farine, des œufs et du lait.',
      'Ensuite, on mélange bien.',
    ],
  },
  {
    name: 'no first clause before 40 characters',
    input: 'Oui, bien sûr. Ensuite, on part.',
    expected: ['Oui, bien sûr.', 'Ensuite, on part.'],
  },
  {
    name: 'first clause at a colon with a space before it',
    input: 'Voici exactement ce que je vous propose pour demain : une balade. Super.',
    expected: ['Voici exactement ce que je vous propose pour demain :', 'une balade.', 'Super.'],
  },
  {
    name: 'first clause at a dash or a semicolon',
    input: 'Bonne question — la réponse est simple. Voilà.',
    options: { firstClauseMinChars: 10 },
    expected: ['Bonne question —', 'la réponse est simple.', 'Voilà.'],
  },
  {
    name: 'first clause never at a decimal comma',
    input: 'Il mesure 3,5 mètres de haut; environ. Voilà.',
    options: { firstClauseMinChars: 5 },
    expected: ['Il mesure 3,5 mètres de haut;', 'environ.', 'Voilà.'],
  },
  {
    name: 'maxChars cuts run-on text at the last space',
    input: 'Un texte sans aucune ponctuation qui continue encore et encore sans jamais finir vraiment',
    options: { maxChars: 40 },
    expected: [
      'Un texte sans aucune ponctuation qui',
      'continue encore et encore sans jamais',
      'finir vraiment',
    ],
  },
  {
    name: 'maxChars prefers a late clause boundary',
    input: 'Une première partie assez longue du texte, puis une suite qui ne finit jamais vraiment',
    options: { maxChars: 60, firstClauseMinChars: 0 },
    expected: ['Une première partie assez longue du texte,', 'puis une suite qui ne finit jamais vraiment'],
  },
  {
    name: 'blank lines',
    input: 'Titre de section\n\nPremier paragraphe sans point\n \nSecond.',
    expected: ['Titre de section', 'Premier paragraphe sans point', 'Second.'],
  },
  {
    name: 'list lines',
    input: 'Il faut :\n- des œufs\n- du lait\n1. Mélanger\n2. Cuire\n\nBon appétit !',
    expected: ['Il faut :', '- des œufs', '- du lait', '1. Mélanger', '2. Cuire', 'Bon appétit !'],
  },
  {
    name: 'Markdown emphasis and headers are kept',
    input: '## Étapes\n\n**Attention.** Lisez *bien* la notice. **Important :** rien.\n# Fin',
    expected: ['## Étapes', '**Attention.**', 'Lisez *bien* la notice.', '**Important :** rien.', '# Fin'],
  },
  {
    name: 'whitespace is trimmed and collapsed',
    input: '  Bonjour   à\ttous.\n  Comment ça\r\nva ?  ',
    expected: ['Bonjour à tous.', 'Comment ça va ?'],
  },
  {
    name: 'chunks with nothing to say are dropped',
    input: 'Bon. ... Voilà.\n\n---\n\n**',
    expected: ['Bon.', 'Voilà.'],
  },
];

function run(deltas: string[], options?: SentenceSplitterOptions): string[] {
  const splitter = new SentenceSplitter(options);
  const out = deltas.flatMap((d) => splitter.push(d));
  return [...out, ...splitter.flush()];
}

/** Random slices of 0 to 8 characters. */
function randomSplit(text: string, rand: () => number): string[] {
  const deltas: string[] = [];
  for (let i = 0; i < text.length;) {
    const n = Math.floor(rand() * 9);
    deltas.push(text.slice(i, i + n));
    i += n;
  }
  return deltas;
}

describe('SentenceSplitter', () => {
  it.each(cases)('$name', ({ input, expected, options }) => {
    expect(run([input], options)).toEqual(expected);
  });

  it.each(cases)('$name: same output for any split into deltas', ({ input, expected, options }) => {
    expect(run([...input], options)).toEqual(expected);
    const rand = random(input.length);
    for (let k = 0; k < 50; k++) {
      const deltas = randomSplit(input, rand);
      expect(run(deltas, options), JSON.stringify(deltas)).toEqual(expected);
    }
  });

  it('emits a sentence as soon as the next word starts, and holds trailing text until flush', () => {
    const s = new SentenceSplitter();
    expect(s.push('Bonjour.')).toEqual([]);
    expect(s.push(' ')).toEqual([]);
    expect(s.push('Comment')).toEqual(['Bonjour.']);
    expect(s.push(' vas-tu')).toEqual([]);
    expect(s.flush()).toEqual(['Comment vas-tu']);
  });

  it('does not confirm a boundary at the end of the buffer', () => {
    const s = new SentenceSplitter();
    expect(s.push('Il a 3.')).toEqual([]);
    expect(s.push('5 ans. Attendez..')).toEqual(['Il a 3.5 ans.']);
    expect(s.push('. Voilà')).toEqual(['Attendez...']);
    expect(s.push('.')).toEqual([]);
    expect(s.flush()).toEqual(['Voilà.']);
  });

  it('drops a remainder without letters or digits, and starts afresh after flush', () => {
    const s = new SentenceSplitter();
    expect(s.push('Fin. ')).toEqual([]);
    expect(s.push('...')).toEqual(['Fin.']);
    expect(s.flush()).toEqual([]);
    expect(s.push('Pour préparer une bonne pâte à crêpes maison, il')).toEqual([
      'Pour préparer une bonne pâte à crêpes maison,',
    ]);
    expect(s.flush()).toEqual(['il']);
  });
});
