import type { Collection, WeaviateClient } from 'weaviate-client';
import { throwIfAborted, VoiceError } from '../errors.js';
import { raceAbort } from '../pipeline/abortable.js';
import type { Embedder } from './embeddings.js';
import { indexTerms, type TermLanguage } from './terms.js';
import type { DocumentInfo, KnowledgeBase, KnowledgeDocument, Passage, SearchOptions } from './types.js';

export interface WeaviateOptions {
  /** REST URL, e.g. http://127.0.0.1:8079 (gRPC on the same host, `grpcPort`). */
  url: string;
  grpcPort: number;
  apiKey: string;
  /** Collection of the passages; the documents are in `${collection}Documents`. */
  collection: string;
  /** Limit of each call (connect, query, insert). */
  timeoutMs: number;
  language: TermLanguage;
  /** Vectors with the passages, and hybrid searches (Weaviate's relative score fusion). */
  embedder?: Embedder;
  /** Share of the vector similarity in a hybrid score (Weaviate's `alpha`). */
  vectorWeight?: number;
}

type ChunkProps = {
  docId: string;
  source: string;
  position: number;
  heading: string;
  text: string;
  /** The passage's index terms (indexTerms), BM25-searched on whitespace tokens. */
  terms: string;
};

type DocumentProps = {
  docId: string;
  source: string;
  sha256: string;
  bytes: number;
  chunks: number;
  addedAt: number;
};

/** Objects inserted per batch call. */
const BATCH = 200;

/**
 * The knowledge base in Weaviate (`rag.engine: weaviate`): the same terms as the embedded engine
 * (French stems, no stop words) in a whitespace-tokenized property searched with BM25, so both
 * engines rank alike; Weaviate's own stop words are off. With an embedder, passages get their
 * vectors (self-provided) and searches are hybrid. Collections are created on first use.
 * Weaviate has no transactions: a document's passages are written first and its record last, and
 * a failed add removes what it wrote.
 */
export class WeaviateKnowledgeBase implements KnowledgeBase {
  readonly engine = 'weaviate';
  private client: Promise<WeaviateClient> | undefined;
  private collections:
    Promise<{ chunks: Collection<ChunkProps>; docs: Collection<DocumentProps> }> | undefined;

  constructor(private readonly options: WeaviateOptions) {}

  private async open() {
    this.collections ??= (async () => {
      // Loaded on first use: the gRPC client is not needed by services on the embedded engine.
      const { default: weaviate } = await import('weaviate-client');
      const url = new URL(this.options.url);
      const secure = url.protocol === 'https:';
      const seconds = Math.max(1, Math.ceil(this.options.timeoutMs / 1000));
      this.client = weaviate.connectToCustom({
        httpHost: url.hostname,
        httpPort: Number(url.port || (secure ? 443 : 80)),
        httpSecure: secure,
        grpcHost: url.hostname,
        grpcPort: this.options.grpcPort,
        grpcSecure: secure,
        ...(this.options.apiKey ? { authCredentials: new weaviate.ApiKey(this.options.apiKey) } : {}),
        timeout: { init: seconds, query: seconds, insert: seconds * 4 },
      });
      const client = await this.client;
      const name = this.options.collection;
      const noStopwords = { stopwords: { preset: 'none' } };
      if (!(await client.collections.exists(name)))
        await client.collections.create<ChunkProps>({
          name,
          vectorizers: weaviate.configure.vectorizer.selfProvided(),
          invertedIndex: noStopwords,
          properties: [
            { name: 'docId', dataType: 'text', tokenization: 'field', indexSearchable: false },
            { name: 'source', dataType: 'text', indexSearchable: false, indexFilterable: false },
            { name: 'position', dataType: 'int', indexFilterable: false },
            { name: 'heading', dataType: 'text', indexSearchable: false, indexFilterable: false },
            { name: 'text', dataType: 'text', indexSearchable: false, indexFilterable: false },
            { name: 'terms', dataType: 'text', tokenization: 'whitespace', indexFilterable: false },
          ],
        });
      if (!(await client.collections.exists(`${name}Documents`)))
        await client.collections.create<DocumentProps>({
          name: `${name}Documents`,
          vectorizers: weaviate.configure.vectorizer.selfProvided(),
          invertedIndex: noStopwords,
          properties: [
            { name: 'docId', dataType: 'text', tokenization: 'field', indexSearchable: false },
            { name: 'source', dataType: 'text', indexSearchable: false },
            { name: 'sha256', dataType: 'text', indexSearchable: false },
            { name: 'bytes', dataType: 'int' },
            { name: 'chunks', dataType: 'int' },
            { name: 'addedAt', dataType: 'number' },
          ],
        });
      return {
        chunks: client.collections.get<ChunkProps>(name),
        docs: client.collections.get<DocumentProps>(`${name}Documents`),
      };
    })().catch((err: unknown) => {
      this.collections = undefined; // the next call tries again
      throw unavailable(this.options.url, err);
    });
    return this.collections;
  }

  async search(query: string, options: SearchOptions = {}): Promise<Passage[]> {
    throwIfAborted(options.signal);
    const terms = [...new Set(indexTerms(query, this.options.language))];
    const embedder = this.options.embedder;
    if (terms.length === 0 && !embedder) return [];
    const vector = embedder && Array.from((await embedder.embed([query], options.signal))[0]!);
    const { chunks } = await withSignal(this.open(), options.signal);
    const shape = {
      limit: options.k ?? 3,
      returnMetadata: ['score' as const, 'distance' as const],
      returnProperties: [
        'docId' as const,
        'source' as const,
        'position' as const,
        'heading' as const,
        'text' as const,
      ],
    };
    const found = await withSignal(
      !vector
        ? chunks.query.bm25(terms.join(' '), { ...shape, queryProperties: ['terms'] })
        : terms.length === 0
          ? chunks.query.nearVector(vector, shape)
          : chunks.query.hybrid(terms.join(' '), {
              ...shape,
              vector,
              alpha: this.options.vectorWeight ?? 0.5,
              queryProperties: ['terms'],
            }),
      options.signal,
    ).catch((err: unknown) => {
      throw err instanceof VoiceError ? err : unavailable(this.options.url, err);
    });
    return found.objects.map((o) => ({
      chunkId: `${o.properties.docId}#${o.properties.position}`,
      documentId: o.properties.docId,
      source: o.properties.source,
      heading: o.properties.heading,
      text: o.properties.text,
      // nearVector (a question without terms) has a distance, not a score.
      score: o.metadata?.score ?? (o.metadata?.distance === undefined ? 0 : 1 - o.metadata.distance),
    }));
  }

  async add(documents: KnowledgeDocument[]): Promise<void> {
    const { chunks, docs } = await this.open();
    for (const doc of documents) {
      const known = await this.record(docs, doc.id);
      if (known?.sha256 === doc.sha256) continue;
      // Before anything is written: embeddings that fail leave the document as it was.
      const vectors = await this.options.embedder?.embed(
        doc.chunks.map((c) => `${c.heading}\n${c.text}`.trim()),
      );
      await this.removeRows(doc.id);
      try {
        const objects = doc.chunks.map((c, position) => ({
          ...(vectors ? { vectors: Array.from(vectors[position]!) } : {}),
          properties: {
            docId: doc.id,
            source: doc.source,
            position,
            heading: c.heading,
            text: c.text,
            terms: indexTerms(`${c.heading} ${c.text}`, this.options.language).join(' '),
          },
        }));
        for (let i = 0; i < objects.length; i += BATCH) {
          const result = await chunks.data.insertMany(objects.slice(i, i + BATCH));
          if (result.hasErrors)
            throw new Error(Object.values(result.errors)[0]?.message ?? 'a batch insert failed');
        }
        await docs.data.insert({
          docId: doc.id,
          source: doc.source,
          sha256: doc.sha256,
          bytes: doc.bytes,
          chunks: doc.chunks.length,
          addedAt: Date.now(),
        });
      } catch (err) {
        await this.removeRows(doc.id).catch(() => undefined);
        throw err instanceof VoiceError ? err : unavailable(this.options.url, err);
      }
    }
  }

  async remove(id: string): Promise<boolean> {
    const { docs } = await this.open();
    const known = await this.record(docs, id);
    await this.removeRows(id);
    return known !== undefined;
  }

  private async removeRows(id: string): Promise<void> {
    const { chunks, docs } = await this.open();
    await chunks.data.deleteMany(chunks.filter.byProperty('docId').equal(id));
    await docs.data.deleteMany(docs.filter.byProperty('docId').equal(id));
  }

  private async record(docs: Collection<DocumentProps>, id: string): Promise<DocumentProps | undefined> {
    const found = await docs.query.fetchObjects({
      filters: docs.filter.byProperty('docId').equal(id),
      limit: 1,
    });
    return found.objects[0]?.properties;
  }

  async list(): Promise<DocumentInfo[]> {
    const { docs } = await this.open();
    const out: DocumentInfo[] = [];
    for await (const o of docs.iterator())
      out.push({
        id: o.properties.docId,
        source: o.properties.source,
        sha256: o.properties.sha256,
        bytes: o.properties.bytes,
        chunks: o.properties.chunks,
        addedAt: o.properties.addedAt,
      });
    return out.sort((a, b) => a.source.localeCompare(b.source));
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.collections = undefined;
    await client?.then((c) => c.close()).catch(() => undefined);
  }
}

function unavailable(url: string, err: unknown): VoiceError {
  return new VoiceError(
    'kb_unavailable',
    `Weaviate at ${url}: ${err instanceof Error ? err.message : String(err)}`,
    {
      cause: err,
    },
  );
}

/** `raceAbort` when there is a signal. */
function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return signal ? raceAbort(promise, signal) : promise;
}
