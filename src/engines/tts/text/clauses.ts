import { SentenceSplitter } from '../../../pipeline/sentence-splitter.js';

/** A piece of text up to and including its punctuation, as Piper phonemizes it. */
export interface Clause {
  text: string;
  /** The punctuation that ends the clause ("" at the end of text without one). */
  punctuation: string;
}

const CLAUSE = /[^.,;:!?]+[.,;:!?]*/g;

/** Splits text into clauses at , ; : . ! ? (ellipses become a period, quotes and brackets go). */
export function splitClauses(text: string): Clause[] {
  const cleaned = text
    .replace(/…|\.{3}/g, '.')
    .replace(/[«»"“”()[\]{}]/g, ' ')
    .replace(/\s+/g, ' ');
  const out: Clause[] = [];
  for (const m of cleaned.matchAll(CLAUSE)) {
    const body = m[0].replace(/[.,;:!?]+$/, '').trim();
    const punct = m[0].slice(m[0].replace(/[.,;:!?]+$/, '').length);
    if (!/[\p{L}\p{N}]/u.test(body)) continue;
    // "?!" and "!!!" read as their first mark.
    out.push({ text: body, punctuation: punct.charAt(0) });
  }
  return out;
}

/**
 * Sentences, each ending at . ! ? (the unit the TTS engines synthesize and stream), cut by the
 * same tokenizer as the streamed answer (abbreviations, numbers, quotes, list items), so text
 * the pipeline already cut is never cut again differently.
 */
export function splitSentences(text: string): string[] {
  const splitter = new SentenceSplitter({ firstClauseMinChars: 0 });
  return [...splitter.push(text), ...splitter.flush()];
}
