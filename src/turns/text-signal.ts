/**
 * Words after which a clause cannot end: articles, prepositions, conjunctions, determiners, and
 * subject pronouns still waiting for their verb. Audio end-of-turn models miss some of these
 * (measured here: Smart Turn says "complete" at spliced pauses after "dans le"), so a transcript
 * that stops on one of them makes `semantic_vad` wait for the longest silence.
 */
const UNFINISHED: Record<string, readonly string[]> = {
  fr: [
    ...['le', 'la', 'les', "l'", 'un', 'une', 'des', 'du', 'de', "d'", 'au', 'aux'],
    ...['à', 'dans', 'sur', 'sous', 'avec', 'pour', 'par', 'en', 'vers', 'chez', 'entre', 'sans', 'depuis'],
    ...['et', 'ou', 'mais', 'donc', 'car', 'ni', 'que', "qu'", 'si', 'quand', 'comme', 'parce', 'puis'],
    ...['mon', 'ma', 'mes', 'ton', 'ta', 'tes', 'son', 'sa', 'ses', 'notre', 'nos', 'votre', 'vos'],
    ...['leur', 'leurs', 'ce', 'cet', 'cette', 'ces', 'chaque', 'quel', 'quelle', 'quels', 'quelles'],
    ...['je', "j'", 'tu', 'il', 'elle', 'on', 'nous', 'ils', 'elles'],
  ],
  en: [
    ...['the', 'a', 'an', 'to', 'of', 'in', 'on', 'at', 'for', 'with', 'from', 'by', 'into', 'about'],
    ...['and', 'or', 'but', 'so', 'because', 'if', 'when', 'that', 'than', 'my', 'your', 'his', 'her'],
    ...['our', 'their', 'this', 'these', 'those', 'every', 'i', "i'm", 'we', 'they'],
  ],
};
const SETS = Object.fromEntries(Object.entries(UNFINISHED).map(([k, v]) => [k, new Set(v)]));

/**
 * Why the transcript so far cannot be the end of a turn (the word it stops on, or a trailing
 * ellipsis), or undefined when it may be. `language` is ISO 639-1; `auto` checks every list.
 */
export function unfinishedClause(text: string, language: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/(\.\.\.|…|,|-)\s*$/.test(trimmed)) return `ends with "${trimmed.slice(-3).trim()}"`;
  // Whisper punctuates from the speaker's intonation: a sentence it does not close was not closed.
  if (!/[.!?]["»)]?\s*$/.test(trimmed)) return 'no final punctuation';
  const words = trimmed
    .toLowerCase()
    .replace(/[’]/g, "'")
    .replace(/[.!?;:«»"()]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  let last = words.at(-1);
  if (last === undefined) return undefined;
  // Elided forms stay attached to the next word: "l'" alone is still unfinished.
  const elided = /^(l|d|j|qu)'$/.exec(last);
  if (elided) last = `${elided[1]}'`;
  const sets = language === 'auto' ? Object.values(SETS) : [SETS[language]].filter(Boolean);
  return sets.some((s) => s!.has(last)) ? `ends on "${last}"` : undefined;
}
