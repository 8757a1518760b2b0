import { VoiceError } from '../errors.js';

/**
 * Turns texts into vectors (the knowledge base's optional semantic half). Vectors come back with
 * unit length, so that a dot product is their cosine similarity.
 */
export interface Embedder {
  /** `engine model`, stored beside the vectors: vectors of another model are not compared. */
  readonly id: string;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export interface EmbedderOptions {
  engine: 'ollama' | 'openai';
  /** Ollama's URL (`/api/embed`), or the base URL of an OpenAI-compatible API (`/embeddings`). */
  url: string;
  model: string;
  apiKey: string;
  timeoutMs: number;
}

/** Texts sent in one request (a document's passages go in several). */
const BATCH = 32;

export function createEmbedder(options: EmbedderOptions): Embedder {
  const base = options.url.replace(/\/+$/, '');
  const id = `${options.engine} ${options.model}`;
  const request =
    options.engine === 'ollama'
      ? {
          url: `${base}/api/embed`,
          body: (input: string[]) => ({ model: options.model, input, truncate: true }),
        }
      : { url: `${base}/embeddings`, body: (input: string[]) => ({ model: options.model, input }) };
  const vectorsOf = (json: unknown): unknown =>
    options.engine === 'ollama'
      ? (json as { embeddings?: unknown }).embeddings
      : (json as { data?: { embedding: unknown; index: number }[] }).data
          ?.slice()
          .sort((a, b) => a.index - b.index)
          .map((d) => d.embedding);
  const fail = (why: string, cause?: unknown) =>
    new VoiceError('kb_unavailable', `embeddings at ${base} (${options.model}): ${why}`, { cause });

  async function embedBatch(input: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify(request.body(input)),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw fail(timeout.aborted ? `no answer within ${options.timeoutMs} ms` : (err as Error).message, err);
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw fail(`HTTP ${response.status} ${detail}`);
    }
    const vectors = vectorsOf(await response.json().catch((err: unknown) => fail('not JSON', err)));
    if (!Array.isArray(vectors) || vectors.length !== input.length)
      throw fail(`${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${input.length} texts`);
    return vectors.map((v: unknown) => {
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw fail('a vector is not a list of numbers');
      return unit(Float32Array.from(v as number[]));
    });
  }

  return {
    id,
    async embed(texts, signal) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += BATCH)
        out.push(...(await embedBatch(texts.slice(i, i + BATCH), signal)));
      if (out.some((v) => v.length !== out[0]!.length)) throw fail('vectors of different lengths');
      return out;
    },
  };
}

function unit(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}
