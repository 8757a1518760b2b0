/** French numbers in words, as a voice reads them (traditional spelling, hyphens below 100). */

const UNITS = ['zéro', 'un', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf'];
const TEENS = [
  'dix',
  'onze',
  'douze',
  'treize',
  'quatorze',
  'quinze',
  'seize',
  'dix-sept',
  'dix-huit',
  'dix-neuf',
];
const TENS = ['', '', 'vingt', 'trente', 'quarante', 'cinquante', 'soixante'];

export type Gender = 'm' | 'f';

function below100(n: number, gender: Gender): string {
  const un = gender === 'f' ? 'une' : 'un';
  if (n < 10) return n === 1 ? un : UNITS[n]!;
  if (n < 20) return TEENS[n - 10]!;
  const t = Math.floor(n / 10);
  const u = n % 10;
  if (t < 7) {
    if (u === 0) return TENS[t]!;
    if (u === 1) return `${TENS[t]} et ${un}`;
    return `${TENS[t]}-${UNITS[u]}`;
  }
  if (t === 7) return u === 1 ? 'soixante et onze' : `soixante-${TEENS[u]}`;
  if (t === 8) return u === 0 ? 'quatre-vingts' : `quatre-vingt-${u === 1 ? un : UNITS[u]}`;
  return `quatre-vingt-${TEENS[u]}`;
}

function below1000(n: number, gender: Gender): string {
  const h = Math.floor(n / 100);
  const rest = n % 100;
  if (h === 0) return below100(rest, gender);
  const hundred = h === 1 ? 'cent' : `${UNITS[h]} cent${rest === 0 ? 's' : ''}`;
  return rest === 0 ? hundred : `${hundred} ${below100(rest, gender)}`;
}

/** Integer in words; `gender` only changes "un" to "une" ("vingt et une heures"). */
export function frenchInteger(n: number, gender: Gender = 'm'): string {
  if (!Number.isSafeInteger(n)) return String(n);
  if (n < 0) return `moins ${frenchInteger(-n, gender)}`;
  if (n < 1000) return below1000(n, gender);
  const parts: string[] = [];
  const scales: [number, string, string][] = [
    [1e9, 'milliard', 'milliards'],
    [1e6, 'million', 'millions'],
  ];
  let rest = n;
  for (const [value, one, many] of scales) {
    const count = Math.floor(rest / value);
    if (count > 0) {
      parts.push(`${frenchInteger(count)} ${count === 1 ? one : many}`);
      rest %= value;
    }
  }
  const thousands = Math.floor(rest / 1000);
  if (thousands > 0) {
    // "mille" is invariable, and "quatre-vingts"/"cents" lose their s before it.
    parts.push(
      thousands === 1 ? 'mille' : `${below1000(thousands, 'm').replace(/(vingt|cent)s$/, '$1')} mille`,
    );
    rest %= 1000;
  }
  if (rest > 0) parts.push(below1000(rest, gender));
  return parts.join(' ');
}

/** "3,5" → "trois virgule cinq"; leading zeros of the decimals are read ("0,05" → "zéro virgule zéro cinq"). */
export function frenchDecimal(intPart: string, decimals: string, gender: Gender = 'm'): string {
  const zeros = /^0*/.exec(decimals)![0].length;
  const tail = decimals.slice(zeros);
  const read = [...Array<string>(zeros).fill('zéro'), ...(tail ? [frenchInteger(Number(tail))] : [])];
  return `${frenchInteger(Number(intPart), gender)} virgule ${read.join(' ')}`;
}

const ORDINAL_SPECIAL: Record<number, string> = { 1: 'premier' };

/** 1 → "premier" (or "première"), 2 → "deuxième", 21 → "vingt et unième", 9 → "neuvième". */
export function frenchOrdinal(n: number, gender: Gender = 'm'): string {
  if (n === 1) return gender === 'f' ? 'première' : ORDINAL_SPECIAL[1]!;
  const words = frenchInteger(n);
  if (words.endsWith('cinq')) return `${words}uième`;
  if (words.endsWith('neuf')) return `${words.slice(0, -1)}vième`;
  if (/(quatre-vingts|cents)$/.test(words)) return `${words.slice(0, -1)}ième`;
  return `${words.replace(/e$/, '')}ième`;
}

export const MONTHS_FR = [
  'janvier',
  'février',
  'mars',
  'avril',
  'mai',
  'juin',
  'juillet',
  'août',
  'septembre',
  'octobre',
  'novembre',
  'décembre',
];
