import { Worker } from 'node:worker_threads';
import { abortReason, VoiceError } from '../errors.js';
import { workerUrl } from '../runtime/worker-url.js';
import type { Hit, SearchQuery, SearchReply, SearchRequest } from './sqlite-search.js';

/**
 * One worker thread that runs the embedded knowledge base's searches, started on first use and
 * again after it died. A search that is aborted stops being waited for (the worker finishes it).
 */
export class SearchWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (hits: Hit[]) => void; reject: (err: Error) => void }
  >();

  constructor(private readonly path: string) {}

  search(query: SearchQuery, signal?: AbortSignal): Promise<Hit[]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Hit[]>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
        reject(abortReason(signal!));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      if (this.pending.size === 0) worker.ref(); // a search in flight keeps the process up
      this.pending.set(id, {
        resolve: (hits) => (done(), resolve(hits)),
        reject: (err) => (done(), reject(err)),
      });
      worker.postMessage({ ...query, id } satisfies SearchRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl(import.meta.url, './sqlite-search-worker.js'), {
      workerData: { path: this.path },
    });
    worker.unref(); // idle, it does not keep the process up
    worker.on('message', (reply: SearchReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (!waiter) return;
      if ('hits' in reply) waiter.resolve(reply.hits);
      else waiter.reject(new VoiceError('kb_unavailable', `knowledge base search failed: ${reply.error}`));
    });
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.pending.values()) w.reject(new VoiceError('kb_unavailable', why));
      this.pending.clear();
    };
    worker.on('error', (err) => fail(`knowledge base search worker failed: ${err.message}`));
    worker.on('exit', (code) => fail(`knowledge base search worker exited (${code})`));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
