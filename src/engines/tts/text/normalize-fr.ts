import { MONTHS_FR, frenchDecimal, frenchInteger, frenchOrdinal, type Gender } from './numbers-fr.js';

/**
 * French text as a voice should read it: abbreviations, times, dates, ordinals, percentages,
 * currencies, units and numbers spelled out, before phonemization ("21 h 30" → "vingt et une
 * heures trente", "M. Dupont" → "monsieur Dupont", "le 1er mai" → "le premier mai").
 */
const ABBREVIATIONS: [RegExp, string][] = [
  [/\bMM\.(?=\s)/g, 'messieurs'],
  [/\bM\.(?=\s)/g, 'monsieur'],
  [/\bMmes\b\.?/g, 'mesdames'],
  [/\bMme\b\.?/g, 'madame'],
  [/\bMlles\b\.?/g, 'mesdemoiselles'],
  [/\bMlle\b\.?/g, 'mademoiselle'],
  [/\bDr\b\.?/g, 'docteur'],
  [/\bPr\b\.?(?=\s+\p{Lu})/gu, 'professeur'],
  [/\bSte\b\.?(?=[\s-])/g, 'sainte'],
  [/\bSt\b\.?(?=[\s-])/g, 'saint'],
  [/\betc\.(?=\s*$)/g, 'et cetera.'],
  [/\betc\./g, 'et cetera'],
  [/\bcf\./g, 'voir'],
  [/\bex\.(?=\s)/g, 'par exemple'],
  [/\bav\.(?=\s)/g, 'avenue'],
  [/\bbd\b\.?(?=\s)/g, 'boulevard'],
  [/\bn°\s*/g, 'numéro '],
  [/\bN°\s*/g, 'numéro '],
];

const UNITS: Record<string, [string, string, Gender]> = {
  km: ['kilomètre', 'kilomètres', 'm'],
  m: ['mètre', 'mètres', 'm'],
  cm: ['centimètre', 'centimètres', 'm'],
  mm: ['millimètre', 'millimètres', 'm'],
  kg: ['kilo', 'kilos', 'm'],
  g: ['gramme', 'grammes', 'm'],
  l: ['litre', 'litres', 'm'],
  min: ['minute', 'minutes', 'f'],
  s: ['seconde', 'secondes', 'f'],
  '°C': ['degré', 'degrés', 'm'],
  '°': ['degré', 'degrés', 'm'],
  '€': ['euro', 'euros', 'm'],
  $: ['dollar', 'dollars', 'm'],
  '%': ['pour cent', 'pour cent', 'm'],
};

/** Integer or decimal ("3,5", "3.5") in words. */
function readNumber(text: string, gender: Gender = 'm'): string {
  const m = /^(\d+)(?:[,.](\d+))?$/.exec(text);
  if (!m) return text;
  return m[2] ? frenchDecimal(m[1]!, m[2], gender) : frenchInteger(Number(m[1]), gender);
}

const plural = (n: number, one: string, many: string) => (n >= 2 ? many : one);

export function normalizeFrench(input: string): string {
  let t = input.normalize('NFC').replace(/[\u00a0\u202f]/g, ' ');
  for (const [re, word] of ABBREVIATIONS) t = t.replace(re, word);
  // Thousands separators: "1 000 000" → "1000000".
  t = t.replace(/\b(\d{1,3})((?: \d{3})+)\b/g, (_, a: string, b: string) => a + b.replace(/ /g, ''));
  // A minus sign before a number (not a hyphen between words or a range "3-4").
  t = t.replace(/(^|[\s(])-(\d)/g, '$1moins $2');
  // Times: "21 h 30", "21h30", "21:30", "8 h".
  t = t.replace(/\b([01]?\d|2[0-3])\s*(?:h|:)\s*([0-5]\d)\b/g, (_, h: string, m: string) => {
    const hours = Number(h);
    const mins = Number(m);
    const head = `${frenchInteger(hours, 'f')} ${plural(hours, 'heure', 'heures')}`;
    return mins === 0 ? head : `${head} ${frenchInteger(mins, 'f')}`;
  });
  t = t.replace(
    /\b([01]?\d|2[0-3])\s*h\b/g,
    (_, h: string) => `${frenchInteger(Number(h), 'f')} ${plural(Number(h), 'heure', 'heures')}`,
  );
  // Dates: "23/11/2026", "1/5".
  t = t.replace(/\b([0-3]?\d)\/(0?[1-9]|1[0-2])(?:\/(\d{4}))?\b/g, (_, d: string, mo: string, y?: string) => {
    const day = Number(d) === 1 ? 'premier' : frenchInteger(Number(d));
    return `${day} ${MONTHS_FR[Number(mo) - 1]}${y ? ` ${frenchInteger(Number(y))}` : ''}`;
  });
  // Ordinals: "1er", "1re", "1ère", "2e", "2ème", "XXIe" is left to espeak.
  t = t.replace(/\b(\d+)(er|re|ère|e|ème|eme)\b/g, (_, n: string, suffix: string) =>
    frenchOrdinal(Number(n), suffix === 're' || suffix === 'ère' ? 'f' : 'm'),
  );
  // Amounts with units or currencies: "12,50 €" → "douze euros cinquante", "80 %" → "quatre-vingts pour cent".
  t = t.replace(/(\d+)(?:[,.](\d{2}))?\s*€/g, (_, e: string, c?: string) => {
    const euros = `${frenchInteger(Number(e))} ${plural(Number(e), 'euro', 'euros')}`;
    return c && Number(c) > 0 ? `${euros} ${frenchInteger(Number(c))}` : euros;
  });
  t = t.replace(
    /(\d+(?:[,.]\d+)?)\s*(km|cm|mm|kg|min|°C|°|%|\$|m|g|l|s)(?![\p{L}\d])/gu,
    (_, n: string, u: string) => {
      const [one, many, gender] = UNITS[u]!;
      const value = Number(n.replace(',', '.'));
      return `${readNumber(n, gender)} ${u === '%' ? one : plural(value, one, many)}`;
    },
  );
  // Remaining numbers, decimals ("3,5") included.
  t = t.replace(/\d+(?:,\d+)?/g, (n) => readNumber(n));
  return t.replace(/\s+/g, ' ').trim();
}
