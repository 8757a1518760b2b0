import { newStemmer } from 'snowball-stemmers';

/**
 * Text to index terms, the same for documents and queries: lower case, elisions cut (l', d',
 * qu'…), diacritics removed, stop words dropped, Snowball stems. The full-text index then only
 * matches words (SQLite's tokenizers know no French morphology).
 */
export type TermLanguage = 'fr' | 'en';

const ELISION = /\b(?:c|d|j|l|m|n|s|t|qu|jusqu|lorsqu|puisqu|quoiqu)['’]/giu;

// Words that say nothing of a topic: articles, pronouns, auxiliaries, prepositions, and the
// words of questions ("quel est le…", "comment…").
const STOP: Record<TermLanguage, Set<string>> = {
  fr: new Set(
    `a ai aie aient aies ait as au aucun aupres auquel aura aurai auraient aurais aurait auras aurez auriez
    aurions aurons auront aussi autre aux avaient avais avait avec avez aviez avions avoir avons ayant
    ayez ayons c ca ce ceci cela celle celles celui ces cet cette ceux chaque combien comme comment d dans de des
    donc dont du elle elles en encore es est et etaient etais etait etant ete etes etiez etions etre eu
    eue eues eumes eurent eus eusse eut eux fais fait faut furent fus fut ici il ils j je jusqu l la le
    les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous on ont ou par pas peu peut
    plus pour pourquoi qu quand que quel quelle quelles quels qui quoi s sa sans se sera serai seraient
    serais serait seras serez seriez serions serons seront ses si son sont sous soyez sur t ta te tes
    toi ton tous tout toute toutes tres tu un une vers vos votre vous y`.split(/\s+/),
  ),
  en: new Set(
    `a about an and are as at be been but by can could did do does for from had has have how i if in
    into is it its me my no not of on or our so than that the their them then there these they this to
    was we were what when where which who why will with would you your`.split(/\s+/),
  ),
};

const stemmers = { fr: newStemmer('french'), en: newStemmer('english') };

const stripDiacritics = (word: string) => word.normalize('NFD').replace(/\p{M}+/gu, '');

export function indexTerms(text: string, language: TermLanguage = 'fr'): string[] {
  const words =
    text
      .toLowerCase()
      .replace(ELISION, ' ')
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const stop = STOP[language];
  const stemmer = stemmers[language];
  const out: string[] = [];
  for (const word of words) {
    const plain = stripDiacritics(word);
    if (stop.has(plain) || (plain.length < 2 && !/\d/.test(plain))) continue;
    // Stemmed without diacritics: a transcript or a question typed without accents ("electricite")
    // gets the stem of the accented word in the document.
    out.push(stemmer.stem(plain));
  }
  return out;
}
