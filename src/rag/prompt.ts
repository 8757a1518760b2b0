import type { Passage } from './types.js';

/**
 * The system prompt with the passages found for the turn: each with its source, and the rule
 * that the model answers from them and says so when they do not hold the answer (small models
 * otherwise make one up). Without passages the instructions are unchanged.
 */
export function withPassages(instructions: string, passages: Passage[], language = 'fr'): string {
  if (passages.length === 0) return instructions;
  const fr = language !== 'en';
  const header = fr
    ? "Extraits de la base de connaissances (réponds à partir d'eux ; s'ils ne contiennent pas la réponse, dis que la base de connaissances ne la contient pas) :"
    : 'Passages from the knowledge base (answer from them; if they do not hold the answer, say that the knowledge base does not hold it):';
  const body = passages
    .map((p, i) => `[${i + 1}] (${p.source}${p.heading ? ` — ${p.heading}` : ''}) ${p.text}`)
    .join('\n');
  return `${instructions ? `${instructions}\n\n` : ''}${header}\n${body}`;
}

/** What an answer lists as its sources (`response.x_sources`, `/chat`'s `sources`). */
export function sourcesOf(passages: Passage[]): { source: string; chunk_id: string }[] {
  return passages.map((p) => ({ source: p.source, chunk_id: p.chunkId }));
}
