import type Database from 'better-sqlite3';
import { fuse, VectorTable, type Scored } from './hybrid.js';

/** The search of the embedded knowledge base: shared by the in-process path and its worker thread. */
const LEXICAL_SQL = `SELECT f.rowid AS id, f.rank FROM kb_fts f WHERE kb_fts MATCH ? ORDER BY f.rank LIMIT ?`;
const ROWS_SQL = `SELECT c.id, c.doc_id, c.position, c.heading, c.text, d.source
  FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id WHERE c.id IN (SELECT value FROM json_each(?))`;
const VECTORS_SQL = 'SELECT chunk_id, vector FROM kb_vectors WHERE model = ? ORDER BY chunk_id';

/** Candidates each ranking gives a hybrid search before they are fused. */
const CANDIDATES = 50;

export interface Hit {
  id: number;
  doc_id: string;
  position: number;
  heading: string;
  text: string;
  source: string;
  /** BM25 (higher is better), or the fused score of a hybrid search (0 to 1). */
  score: number;
}

export interface SearchQuery {
  /** An FTS5 query of the question's terms ('' when it has none). */
  match: string;
  k: number;
  /** With vectors (`rag.embeddings`): the question's unit vector, its model, and its weight. */
  vector?: { values: Float32Array; model: string; weight: number };
}

export interface SearchRequest extends SearchQuery {
  id: number;
}
export type SearchReply = { id: number; hits: Hit[] } | { id: number; error: string };

/**
 * Searches one connection: BM25 over the full-text index, and with a query vector, the passages'
 * vectors (all held in memory, read again when the database changed) fused with it.
 */
export class SqliteSearcher {
  private readonly lexical;
  private readonly rows;
  private readonly vectorRows;
  private vectors: { model: string; version: number; table: VectorTable } | undefined;

  constructor(private readonly db: Database.Database) {
    this.lexical = db.prepare<[string, number], { id: number; rank: number }>(LEXICAL_SQL);
    this.rows = db.prepare<[string], Omit<Hit, 'score'>>(ROWS_SQL);
    this.vectorRows = db.prepare<[string], { chunk_id: number; vector: Buffer }>(VECTORS_SQL);
  }

  /** This connection wrote: the vectors in memory are read again (data_version only sees others' writes). */
  invalidate(): void {
    this.vectors = undefined;
  }

  search(query: SearchQuery): Hit[] {
    const { match, k, vector } = query;
    const lexical = match === '' ? [] : this.lexical.all(match, vector ? CANDIDATES : k);
    const ranked: Scored[] = vector
      ? fuse(
          lexical.map((r) => ({ id: r.id, score: -r.rank })),
          this.table(vector.model).nearest(vector.values, CANDIDATES),
          vector.weight,
          k,
        )
      : lexical.map((r) => ({ id: r.id, score: -r.rank }));
    if (ranked.length === 0) return [];
    const byId = new Map(this.rows.all(JSON.stringify(ranked.map((r) => r.id))).map((r) => [r.id, r]));
    return ranked.flatMap((r) => {
      const row = byId.get(r.id);
      return row ? [{ ...row, score: r.score }] : [];
    });
  }

  private table(model: string): VectorTable {
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (this.vectors?.model === model && this.vectors.version === version) return this.vectors.table;
    const rows = this.vectorRows.all(model);
    const dims = rows[0] ? rows[0].vector.byteLength / 4 : 0;
    const data = new Float32Array(rows.length * dims);
    const ids = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      ids[i] = r.chunk_id;
      if (r.vector.byteLength === dims * 4)
        data.set(new Float32Array(r.vector.buffer, r.vector.byteOffset, dims), i * dims);
    });
    const table = new VectorTable(ids, dims, data);
    this.vectors = { model, version, table };
    return table;
  }
}
