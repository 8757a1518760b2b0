/** A passage of the knowledge base found for a query. */
export interface Passage {
  /** The chunk's id: `DOCUMENT_ID#POSITION`. */
  chunkId: string;
  documentId: string;
  /** The document's file name or title. */
  source: string;
  /** Heading path of the chunk in its document ("Tarifs › Abonnements"), empty when none. */
  heading: string;
  text: string;
  /** Higher is better; comparable only within one engine. */
  score: number;
}

export interface SearchOptions {
  k?: number;
  signal?: AbortSignal;
}

/** Finds the passages of the knowledge base that answer a query (one file per engine). */
export interface Retriever {
  readonly engine: string;
  search(query: string, options?: SearchOptions): Promise<Passage[]>;
}

/** A document as the chunker made it: its text cut into passages, in order. */
export interface KnowledgeDocument {
  id: string;
  source: string;
  /** sha256 of the file's bytes: re-adding the same content changes nothing. */
  sha256: string;
  bytes: number;
  chunks: { heading: string; text: string }[];
}

export interface DocumentInfo {
  id: string;
  source: string;
  sha256: string;
  bytes: number;
  chunks: number;
  /** Epoch milliseconds. */
  addedAt: number;
}

/** Adds, replaces and removes documents (the same engines as `Retriever`). */
export interface Indexer {
  /** Adds each document, replacing a document of the same id; all or nothing. */
  add(documents: KnowledgeDocument[]): Promise<void>;
  /** False when there was no such document. */
  remove(id: string): Promise<boolean>;
  list(): Promise<DocumentInfo[]>;
}

export interface KnowledgeBase extends Retriever, Indexer {
  close(): Promise<void>;
}
