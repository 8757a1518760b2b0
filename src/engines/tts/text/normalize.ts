import { normalizeFrench } from './normalize-fr.js';

/** Text as the voice's language reads it (numbers, times, abbreviations spelled out). */
export function normalizeText(text: string, language: string): string {
  if (language.startsWith('fr')) return normalizeFrench(text);
  return text.replace(/\s+/g, ' ').trim();
}
