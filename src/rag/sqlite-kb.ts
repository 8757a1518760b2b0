import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { throwIfAborted, VoiceError } from '../errors.js';
import { indexTerms, type TermLanguage } from './terms.js';
import type { Embedder } from './embeddings.js';
import { SqliteSearcher, type SearchQuery } from './sqlite-search.js';
import { SearchWorker } from './search-worker-client.js';
import type { DocumentInfo, KnowledgeBase, KnowledgeDocument, Passage, SearchOptions } from './types.js';

/**
 * The embedded knowledge base: SQLite FTS5 with BM25, in the service's own database file (its
 * tables beside the conversations'). The full-text index holds each chunk's terms (`indexTerms`:
 * French-aware stems without diacritics or stop words) and the query is matched the same way.
 * With an embedder (`rag.embeddings`), each chunk's vector is stored beside it and searches are
 * hybrid: BM25 and vector similarity fused (`SqliteSearcher`).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS kb_documents (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kb_chunks (
  id INTEGER PRIMARY KEY,
  doc_id TEXT NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  heading TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_chunks_by_doc ON kb_chunks (doc_id, position);
CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5 (terms, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS kb_vectors (
  chunk_id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  vector BLOB NOT NULL
);
`;

export interface SqliteKbOptions {
  /** False: searches on the event loop (a database file is otherwise searched in a worker). */
  searchInWorker?: boolean;
  /** Vectors beside the passages, and hybrid searches. */
  embedder?: Embedder;
  /** Share of the vector similarity in a hybrid score (0: BM25 only, 1: vectors only). */
  vectorWeight?: number;
}

export class SqliteKnowledgeBase implements KnowledgeBase {
  readonly engine = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements;
  /** Searches off the event loop (a database file; `:memory:` is searched in-process). */
  private readonly worker: SearchWorker | undefined;
  private readonly searcher: SqliteSearcher;

  constructor(
    readonly path: string,
    private readonly language: TermLanguage = 'fr',
    private readonly options: SqliteKbOptions = {},
  ) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new VoiceError(
        'kb_unavailable',
        `cannot open the knowledge base ${path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.worker =
      path !== ':memory:' && options.searchInWorker !== false ? new SearchWorker(path) : undefined;
    this.searcher = new SqliteSearcher(this.db);
    this.statements = {
      chunkIds: this.db.prepare<[string], { id: number }>('SELECT id FROM kb_chunks WHERE doc_id = ?'),
      deleteFts: this.db.prepare<[number]>('DELETE FROM kb_fts WHERE rowid = ?'),
      deleteVector: this.db.prepare<[number]>('DELETE FROM kb_vectors WHERE chunk_id = ?'),
      insertVector: this.db.prepare<[number | bigint, string, Buffer]>(
        'INSERT INTO kb_vectors (chunk_id, model, vector) VALUES (?, ?, ?)',
      ),
      deleteChunks: this.db.prepare<[string]>('DELETE FROM kb_chunks WHERE doc_id = ?'),
      deleteDocument: this.db.prepare<[string]>('DELETE FROM kb_documents WHERE id = ?'),
      sha: this.db.prepare<[string], { sha256: string }>('SELECT sha256 FROM kb_documents WHERE id = ?'),
      insertDocument: this.db.prepare<[string, string, string, number, number, number]>(
        'INSERT INTO kb_documents (id, source, sha256, bytes, chunks, added_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertChunk: this.db.prepare<[string, number, string, string]>(
        'INSERT INTO kb_chunks (doc_id, position, heading, text) VALUES (?, ?, ?, ?)',
      ),
      insertFts: this.db.prepare<[number | bigint, string]>(
        'INSERT INTO kb_fts (rowid, terms) VALUES (?, ?)',
      ),
      list: this.db.prepare<
        [],
        { id: string; source: string; sha256: string; bytes: number; chunks: number; added_at: number }
      >('SELECT * FROM kb_documents ORDER BY source'),
      count: this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM kb_chunks'),
    };
  }

  /** Chunks held over all documents. */
  get chunkCount(): number {
    return this.statements.count.get()!.n;
  }

  async search(query: string, options: SearchOptions = {}): Promise<Passage[]> {
    throwIfAborted(options.signal);
    const terms = [...new Set(indexTerms(query, this.language))];
    const embedder = this.options.embedder;
    if (terms.length === 0 && !embedder) return [];
    const request: SearchQuery = {
      // Any of the terms; BM25 ranks chunks with more of them, and rarer ones, first.
      match: terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR '),
      k: options.k ?? 3,
    };
    if (embedder) {
      const [values] = await embedder.embed([query], options.signal);
      request.vector = { values: values!, model: embedder.id, weight: this.options.vectorWeight ?? 0.5 };
    }
    const hits = this.worker
      ? await this.worker.search(request, options.signal)
      : this.searcher.search(request);
    return hits.map((h) => ({
      chunkId: `${h.doc_id}#${h.position}`,
      documentId: h.doc_id,
      source: h.source,
      heading: h.heading,
      text: h.text,
      score: h.score,
    }));
  }

  /** Adds each document (its vectors first, when there is an embedder: all or nothing). */
  async add(documents: KnowledgeDocument[]): Promise<void> {
    const now = Date.now();
    const changed = documents.filter((doc) => this.statements.sha.get(doc.id)?.sha256 !== doc.sha256);
    const embedder = this.options.embedder;
    const vectors = new Map<KnowledgeDocument, Float32Array[]>();
    if (embedder)
      for (const doc of changed)
        vectors.set(doc, await embedder.embed(doc.chunks.map((c) => `${c.heading}\n${c.text}`.trim())));
    this.db.transaction(() => {
      for (const doc of changed) {
        this.removeRows(doc.id);
        this.statements.insertDocument.run(doc.id, doc.source, doc.sha256, doc.bytes, doc.chunks.length, now);
        doc.chunks.forEach((chunk, position) => {
          const { lastInsertRowid } = this.statements.insertChunk.run(
            doc.id,
            position,
            chunk.heading,
            chunk.text,
          );
          const terms = indexTerms(`${chunk.heading} ${chunk.text}`, this.language).join(' ');
          this.statements.insertFts.run(lastInsertRowid, terms);
          const vector = vectors.get(doc)?.[position];
          if (vector)
            this.statements.insertVector.run(
              lastInsertRowid,
              embedder!.id,
              Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
            );
        });
      }
    })();
    this.searcher.invalidate();
  }

  remove(id: string): Promise<boolean> {
    const removed = this.db.transaction(() => this.removeRows(id))();
    this.searcher.invalidate();
    return Promise.resolve(removed);
  }

  private removeRows(id: string): boolean {
    for (const { id: rowid } of this.statements.chunkIds.all(id)) {
      this.statements.deleteFts.run(rowid);
      this.statements.deleteVector.run(rowid);
    }
    this.statements.deleteChunks.run(id);
    return this.statements.deleteDocument.run(id).changes > 0;
  }

  list(): Promise<DocumentInfo[]> {
    return Promise.resolve(
      this.statements.list.all().map((r) => ({
        id: r.id,
        source: r.source,
        sha256: r.sha256,
        bytes: r.bytes,
        chunks: r.chunks,
        addedAt: r.added_at,
      })),
    );
  }

  async close(): Promise<void> {
    await this.worker?.close();
    if (this.db.open) this.db.close();
  }
}
