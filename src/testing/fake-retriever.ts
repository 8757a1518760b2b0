import { VoiceError } from '../errors.js';
import type { DocumentInfo, KnowledgeBase, KnowledgeDocument, Passage, SearchOptions } from '../rag/types.js';

/**
 * A scripted knowledge base: each search answers `passages` after `delayMs`, or throws, or hangs
 * (ignoring its abort signal, as a stuck server would) until `release()`. Documents added are only
 * listed (searches answer from the script).
 */
export class FakeRetriever implements KnowledgeBase {
  readonly engine = 'fake';
  readonly queries: string[] = [];
  delayMs = 1;
  mode: 'answer' | 'throw' | 'hang' = 'answer';
  private hung: (() => void)[] = [];

  constructor(public passages: (query: string) => Passage[] = () => []) {}

  async search(query: string, _options: SearchOptions = {}): Promise<Passage[]> {
    this.queries.push(query);
    if (this.mode === 'hang') await new Promise<void>((resolve) => this.hung.push(resolve));
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.mode === 'throw') throw new VoiceError('kb_unavailable', 'scripted knowledge base failure');
    return this.passages(query);
  }

  readonly documents = new Map<string, DocumentInfo>();

  add(documents: KnowledgeDocument[]): Promise<void> {
    for (const d of documents)
      this.documents.set(d.id, {
        id: d.id,
        source: d.source,
        sha256: d.sha256,
        bytes: d.bytes,
        chunks: d.chunks.length,
        addedAt: Date.now(),
      });
    return Promise.resolve();
  }

  remove(id: string): Promise<boolean> {
    return Promise.resolve(this.documents.delete(id));
  }

  list(): Promise<DocumentInfo[]> {
    return Promise.resolve([...this.documents.values()]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  release(): void {
    for (const r of this.hung.splice(0)) r();
  }
}

export function passage(text: string, source = 'guide.md', n = 0): Passage {
  return { chunkId: `doc_test#${n}`, documentId: 'doc_test', source, heading: '', text, score: 1 };
}
