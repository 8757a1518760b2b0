/** The search of the embedded knowledge base: shared by the in-process path and its worker thread. */
export const SEARCH_SQL = `SELECT c.id, c.doc_id, c.position, c.heading, c.text, d.source, f.rank
  FROM kb_fts f JOIN kb_chunks c ON c.id = f.rowid JOIN kb_documents d ON d.id = c.doc_id
  WHERE kb_fts MATCH ? ORDER BY f.rank LIMIT ?`;

export interface Hit {
  id: number;
  doc_id: string;
  position: number;
  heading: string;
  text: string;
  source: string;
  rank: number;
}

export interface SearchRequest {
  id: number;
  match: string;
  k: number;
}
export type SearchReply = { id: number; hits: Hit[] } | { id: number; error: string };
