import { Worker } from 'node:worker_threads';
import { VoiceError, type ErrorCode } from '../errors.js';
import { workerUrl } from '../runtime/worker-url.js';
import type { ChunkOptions } from './chunker.js';
import type { ParseReply, ParseRequest } from './parse-worker.js';
import type { KnowledgeDocument } from './types.js';

/**
 * Decodes and cuts an uploaded document in a worker thread (untrusted bytes: a huge or hostile
 * file must not stall live sessions), with a memory cap, a time limit and an abort path.
 */
export async function parseDocumentOffLoop(
  bytes: Uint8Array,
  name: string,
  options: {
    contentType: string | undefined;
    maxBytes: number;
    chunking: ChunkOptions;
    timeoutMs: number;
    signal: AbortSignal;
  },
): Promise<KnowledgeDocument> {
  const worker = new Worker(workerUrl(import.meta.url, './parse-worker.js'), {
    resourceLimits: { maxOldGenerationSizeMb: 256 + Math.ceil((options.maxBytes * 8) / 2 ** 20) },
  });
  const { signal, timeoutMs } = options;
  try {
    return await new Promise<KnowledgeDocument>((resolve, reject) => {
      const onAbort = () => reject(new VoiceError('aborted', 'reading the document was cancelled'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () =>
          reject(
            new VoiceError('kb_document_unreadable', `${name}: reading took longer than ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      worker.once('message', (reply: ParseReply) => {
        done();
        if (reply.ok) resolve(reply.document);
        else reject(new VoiceError(reply.code as ErrorCode, reply.message));
      });
      worker.once('error', (err) => {
        done();
        reject(new VoiceError('kb_document_unreadable', `${name}: ${err.message}`));
      });
      const request: ParseRequest = {
        bytes,
        name,
        contentType: options.contentType,
        maxBytes: options.maxBytes,
        chunking: options.chunking,
      };
      worker.postMessage(request);
    });
  } finally {
    void worker.terminate();
  }
}
