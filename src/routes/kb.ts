import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { VoiceError } from '../errors.js';
import { parseBody } from '../http/validate.js';
import { raceAbort } from '../pipeline/abortable.js';
import { chunkingOf } from '../rag/open.js';
import { parseDocumentOffLoop } from '../rag/parse-off-loop.js';
import type { KnowledgeBase } from '../rag/types.js';
import type { RouteContext } from './context.js';

/** How long reading one uploaded document may take (decoding and cutting it, in a worker). */
const PARSE_TIMEOUT_MS = 60_000;
const searchBody = z.strictObject({
  query: z.string().min(1).max(4000),
  k: z.number().int().min(1).max(20).optional(),
});

/**
 * The knowledge base over HTTP: `POST /v1/kb/documents` (multipart, one `file`: Markdown, text,
 * HTML, PDF), `GET /v1/kb/documents`, `DELETE /v1/kb/documents/:id`, `POST /v1/kb/search`. With auth on,
 * changing it takes a token with the `kb:write` scope; searching and listing take any token.
 */
export function kbRoutes(app: FastifyInstance, ctx: RouteContext, kb: KnowledgeBase | undefined): void {
  const base = () => {
    if (!kb) throw new VoiceError('kb_unavailable', 'the knowledge base is off (rag.engine: off)');
    return kb;
  };
  const writer = (request: FastifyRequest) => {
    if (ctx.config.auth.enabled && !request.principal.scopes?.includes('kb:write'))
      throw new VoiceError(
        'forbidden',
        'changing the knowledge base takes a token with the "kb:write" scope',
      );
  };

  app.post('/v1/kb/documents', async (request, reply) => {
    writer(request);
    const store = base();
    if (!request.isMultipart())
      throw new VoiceError(
        'unsupported_media_type',
        'send the document as multipart/form-data with a `file` field',
      );
    let upload: { name: string; type: string; data: Buffer } | undefined;
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      const data = await part.toBuffer();
      if (part.file.truncated)
        throw new VoiceError(
          'kb_document_too_large',
          `${part.filename}: larger than the upload limit (http.uploadLimitBytes)`,
        );
      if (part.fieldname !== 'file' || upload)
        throw new VoiceError('invalid_request', 'send exactly one document, in the `file` field');
      upload = { name: part.filename || 'document', type: part.mimetype, data };
    }
    if (!upload) throw new VoiceError('invalid_request', 'the `file` field is missing');
    const job = ctx.drain.begin();
    try {
      const doc = await parseDocumentOffLoop(upload.data, upload.name, {
        contentType: upload.type,
        maxBytes: ctx.config.rag.maxDocumentBytes,
        chunking: chunkingOf(ctx.config),
        timeoutMs: PARSE_TIMEOUT_MS,
        signal: job.signal,
      });
      await store.add([doc]);
      request.log.info(
        { document: doc.id, passages: doc.chunks.length, bytes: doc.bytes },
        'knowledge base document added',
      );
      return reply.code(201).send({
        id: doc.id,
        source: doc.source,
        passages: doc.chunks.length,
        bytes: doc.bytes,
        sha256: doc.sha256,
      });
    } finally {
      job.end();
    }
  });

  app.get('/v1/kb/documents', async () => ({ documents: await base().list() }));

  app.delete<{ Params: { id: string } }>('/v1/kb/documents/:id', async (request) => {
    writer(request);
    const id = request.params.id;
    if (!(await base().remove(id)))
      throw new VoiceError('kb_document_not_found', `no document ${id.slice(0, 80)} in the knowledge base`);
    return { id, deleted: true };
  });

  app.post('/v1/kb/search', async (request) => {
    const body = parseBody(searchBody, request.body);
    const { timeoutMs } = ctx.config.rag;
    const limit = new AbortController();
    const timer = setTimeout(
      () =>
        limit.abort(new VoiceError('timeout', `the knowledge base did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const found = await raceAbort(
      base().search(body.query, { k: body.k ?? ctx.config.rag.k, signal: limit.signal }),
      limit.signal,
    ).finally(() => clearTimeout(timer));
    return {
      results: found.map((p) => ({
        source: p.source,
        chunk_id: p.chunkId,
        heading: p.heading,
        text: p.text,
        score: p.score,
      })),
    };
  });
}
