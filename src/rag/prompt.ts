import type { ChatMessage } from '../engines/llm/types.js';
import type { Passage } from './types.js';

/**
 * The prompt with the passages found for the turn, as a system message just before the user's
 * last message: each passage with its source, and the rule that the model answers from them and
 * says so when they do not hold the answer (small models otherwise make one up). Not in the
 * first system message: the conversation before it stays the same from turn to turn, so the LLM
 * reuses what it computed for it (llama.cpp's KV cache) instead of reading the whole history
 * again. Without passages the messages are unchanged.
 */
export function withPassages(messages: ChatMessage[], passages: Passage[], language = 'fr'): ChatMessage[] {
  if (passages.length === 0) return messages;
  const fr = language !== 'en';
  const header = fr
    ? "Extraits de la base de connaissances (réponds à partir d'eux ; s'ils ne contiennent pas la réponse, dis que la base de connaissances ne la contient pas) :"
    : 'Passages from the knowledge base (answer from them; if they do not hold the answer, say that the knowledge base does not hold it):';
  // In document order, not by score: guesses of the turn that find the same passages in another
  // order make the same prompt, which the LLM may then have read already (session prefill).
  const body = [...passages]
    .sort((a, b) => a.documentId.localeCompare(b.documentId) || position(a) - position(b))
    .map((p, i) => `[${i + 1}] (${p.source}${p.heading ? ` — ${p.heading}` : ''}) ${p.text}`)
    .join('\n');
  const at = messages.findLastIndex((m) => m.role === 'user');
  const where = at < 0 ? messages.length : at;
  return [
    ...messages.slice(0, where),
    { role: 'system', content: `${header}\n${body}` },
    ...messages.slice(where),
  ];
}

/** What an answer lists as its sources (`response.x_sources`, `/chat`'s `sources`). */
export function sourcesOf(passages: Passage[]): { source: string; chunk_id: string }[] {
  return passages.map((p) => ({ source: p.source, chunk_id: p.chunkId }));
}

const position = (p: Passage) => Number(p.chunkId.slice(p.chunkId.lastIndexOf('#') + 1)) || 0;
