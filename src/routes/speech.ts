import { PassThrough } from 'node:stream';
import { requestWork } from '../http/request-work.js';
import { writeInTurn } from '../http/stream-write.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TtsChunk } from '../engines/tts/types.js';
import { admitBatch } from '../engines/types.js';
import { VoiceError } from '../errors.js';
import { HttpAudioEncoder, type HttpAudioFormat } from '../http/audio-encoder.js';
import { parseBody, requireText } from '../http/validate.js';
import { raceAbort } from '../pipeline/abortable.js';
import { StageTimer } from '../pipeline/stage-timer.js';
import { OPENAI_VOICES } from '../protocol/session-settings.js';
import { runtimeOf, voiceOf, type RouteContext } from './context.js';

const ttsBody = z.strictObject({
  text: z.string(),
  voice: z.string().optional(),
  format: z.enum(['wav', 'pcm', 'mulaw']).default('wav'),
  speed: z.number().min(0.25).max(4).default(1),
});

/** OpenAI's speech request; fields this service does not use (`instructions`) are accepted. */
const openaiSpeechBody = z.looseObject({
  model: z.string(),
  input: z.string(),
  voice: z.string(),
  response_format: z.string().default('wav'),
  speed: z.number().min(0.25).max(4).default(1),
});

/**
 * `POST /tts` and OpenAI's `POST /v1/audio/speech`: audio streamed as it is synthesized, sentence
 * after sentence; the headers and first bytes leave with the first sentence.
 */
export function speechRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/tts', async (request, reply) => {
    const body = parseBody(ttsBody, request.body);
    const text = requireText(body.text, 'text', ctx.config.http.maxTextChars);
    return streamSpeech(ctx, request, reply, {
      text,
      voice: body.voice,
      format: body.format,
      speed: body.speed,
    });
  });

  app.post('/v1/audio/speech', async (request, reply) => {
    const body = parseBody(openaiSpeechBody, request.body);
    const text = requireText(body.input, 'input', ctx.config.http.maxTextChars);
    if (body.response_format !== 'wav' && body.response_format !== 'pcm')
      throw new VoiceError(
        'invalid_request',
        `response_format ${JSON.stringify(body.response_format).slice(0, 40)} is not supported: wav or pcm`,
      );
    const voice = OPENAI_VOICES.has(body.voice) ? undefined : body.voice;
    // OpenAI's pcm is 24 kHz 16-bit little-endian.
    const rate = body.response_format === 'pcm' ? 24000 : undefined;
    return streamSpeech(ctx, request, reply, {
      text,
      voice,
      format: body.response_format,
      speed: body.speed,
      rate,
    });
  });
}

async function streamSpeech(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  o: { text: string; voice: string | undefined; format: HttpAudioFormat; speed: number; rate?: number },
): Promise<FastifyReply> {
  const runtime = runtimeOf(ctx);
  const { tts } = voiceOf(runtime, o.voice);
  admitBatch(tts);
  const work = requestWork(ctx.drain, reply);
  // Each sentence's time limit starts when it leaves the voice's queue, where voice turns go first.
  const stage = new StageTimer(work.signal, ctx.config.realtime.ttsTimeoutMs);
  const speech = tts.synthesize(o.text, {
    signal: stage.signal,
    rate: o.speed,
    priority: 'batch',
    onQueued: () => stage.arm('waiting for the voice', ctx.config.engines.queueTimeoutMs),
    onStart: () => stage.arm('synthesis of a sentence'),
  });
  const chunks = speech[Symbol.asyncIterator]();
  const next = async () => {
    stage.arm('synthesis of a sentence');
    try {
      return await raceAbort(chunks.next(), stage.signal);
    } finally {
      stage.disarm();
    }
  };
  const end = () => {
    stage.dispose();
    work.end();
  };
  let first: IteratorResult<TtsChunk>;
  try {
    first = await next();
  } catch (err) {
    work.abort(err);
    end();
    throw err;
  }
  if (first.done) {
    end();
    throw new VoiceError('empty_text', 'the text holds nothing to speak');
  }
  const encoder = new HttpAudioEncoder(o.format, first.value.sampleRate, o.rate);
  const out = new PassThrough();
  const stallMs = ctx.config.http.writeStallTimeoutMs;
  out.write(encoder.encode(first.value.samples));
  void (async () => {
    try {
      // The next sentence is synthesized only once the client has taken the last one's audio.
      for (;;) {
        const step = await next();
        if (step.done) {
          out.end(encoder.end());
          break;
        }
        if (!(await writeInTurn(out, encoder.encode(step.value.samples), stallMs))) break;
      }
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'speech stream cut');
      out.destroy(err as Error);
    } finally {
      work.abort(new VoiceError('aborted', 'speech stream ended'));
      void chunks.return?.();
      end();
    }
  })();
  return reply
    .header('content-type', encoder.contentType)
    .header('x-sample-rate', String(encoder.rate))
    .send(out);
}
