import { editDistance } from '../turns/edit-distance.js';
/**
 * Word error rate for STT tests and benchmarks. Both sides are normalised the same way: case,
 * accents kept, punctuation and apostrophes/hyphens to spaces, "%" spelled out, and French or
 * English number words up to 100 written as digits ("une heure" = "1 heure").
 */
const NUMBER_WORDS: Record<string, string> = {
  zéro: '0',
  un: '1',
  une: '1',
  deux: '2',
  trois: '3',
  quatre: '4',
  cinq: '5',
  six: '6',
  sept: '7',
  huit: '8',
  neuf: '9',
  dix: '10',
  onze: '11',
  douze: '12',
  treize: '13',
  quatorze: '14',
  quinze: '15',
  seize: '16',
  vingt: '20',
  trente: '30',
  quarante: '40',
  cinquante: '50',
  soixante: '60',
  cent: '100',
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six_en: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  twenty: '20',
  thirty: '30',
  forty: '40',
  fifty: '50',
  hundred: '100',
};

export function normaliseForWer(text: string): string[] {
  const cleaned = text
    .toLowerCase()
    .normalize('NFC')
    .replace(/%/g, ' pour cent ')
    .replace(/\bpercent\b/g, ' pour cent ')
    .replace(/quatre[- ]vingts?[- ]dix/g, ' 90 ')
    .replace(/quatre[- ]vingts?/g, ' 80 ')
    .replace(/['’`\-‐–—]/g, ' ')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ');
  return cleaned
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => NUMBER_WORDS[w] ?? w);
}

export { editDistance };

/** Corpus WER: total edits over total reference words. */
export function corpusWer(pairs: { reference: string; hypothesis: string }[]): {
  wer: number;
  edits: number;
  words: number;
} {
  let edits = 0;
  let words = 0;
  for (const { reference, hypothesis } of pairs) {
    const r = normaliseForWer(reference);
    edits += editDistance(r, normaliseForWer(hypothesis));
    words += r.length;
  }
  return { wer: words ? edits / words : 0, edits, words };
}
