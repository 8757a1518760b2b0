import { parentPort } from 'node:worker_threads';
import { VoiceError } from '../errors.js';
import type { ChunkOptions } from './chunker.js';
import { parseDocument } from './formats.js';
import { pdfText } from './pdf.js';
import type { KnowledgeDocument } from './types.js';

/** Worker thread: an uploaded document's bytes in, its passages out (see parse-off-loop.ts). */
export interface ParseRequest {
  bytes: Uint8Array;
  name: string;
  contentType: string | undefined;
  maxBytes: number;
  chunking: ChunkOptions;
}
export type ParseReply =
  { ok: true; document: KnowledgeDocument } | { ok: false; code: string; message: string };

parentPort?.once('message', (req: ParseRequest) => {
  parseDocument(req.bytes, req.name, { ...req, pdfText }).then(
    (document) => parentPort?.postMessage({ ok: true, document } satisfies ParseReply),
    (err: unknown) =>
      parentPort?.postMessage(
        (err instanceof VoiceError
          ? { ok: false, code: err.code, message: err.message }
          : {
              ok: false,
              code: 'kb_document_unreadable',
              message: `${req.name}: ${err instanceof Error ? err.message : String(err)}`,
            }) satisfies ParseReply,
      ),
  );
});
