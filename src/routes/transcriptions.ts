import { admitBatch } from '../engines/types.js';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeWithFfmpeg, type FfmpegLimits } from '../audio/ffmpeg.js';
import { decodeWavOffLoop } from '../audio/decode-off-loop.js';
import { wavDurationSec, type Audio } from '../audio/wav.js';
import { segmenterOptions } from '../engines/factory.js';
import { transcribeLong } from '../engines/stt/long-form.js';
import { toSrt, toVtt } from '../engines/stt/subtitles.js';
import { VoiceError } from '../errors.js';
import { runtimeOf, type RouteContext } from './context.js';

const FORMATS = ['json', 'text', 'verbose_json', 'srt', 'vtt'] as const;
type Format = (typeof FORMATS)[number];

/**
 * OpenAI's `POST /v1/audio/transcriptions` and `POST /v1/audio/translations` (multipart; the
 * second writes the speech in English): WAV is read natively, other formats through ffmpeg when it
 * is installed. `model` and `prompt` are accepted; the loaded Whisper answers. Any length up to
 * `stt.maxAudioSec`, in VAD-cut windows of at most 28 s, in the batch lane (live voice turns go
 * first); the work stops when the client goes away.
 */
export function transcriptionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/audio/transcriptions', (request, reply) => handle('transcribe', request, reply, ctx));
  app.post('/v1/audio/translations', (request, reply) => handle('translate', request, reply, ctx));
}

async function handle(
  task: 'transcribe' | 'translate',
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
) {
  if (!request.isMultipart())
    throw new VoiceError(
      'unsupported_media_type',
      'send the audio as multipart/form-data with a `file` field',
    );
  const fields: Record<string, string> = {};
  let upload: { name: string; data: Buffer } | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || upload) {
        await part.toBuffer();
        throw new VoiceError('invalid_request', 'send exactly one file, in the `file` field');
      }
      upload = { name: part.filename, data: await readFile(part) };
    } else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
  }
  if (!upload) throw new VoiceError('invalid_request', 'the `file` field is missing');
  const format = (fields.response_format ?? 'json') as Format;
  if (!FORMATS.includes(format))
    throw new VoiceError(
      'invalid_request',
      `response_format ${JSON.stringify(fields.response_format).slice(0, 40)} is not supported: ${FORMATS.join(', ')}`,
    );
  const language = fields.language?.trim() || undefined;
  if (language !== undefined && !/^[a-z]{2,3}$/.test(language))
    throw new VoiceError('invalid_request', 'language must be an ISO 639-1 code such as fr or en');
  const runtime = runtimeOf(ctx);
  admitBatch(runtime.engines.stt);
  const maxSec = ctx.config.stt.maxAudioSec;
  if (upload.data.toString('ascii', 0, 4) === 'RIFF') {
    const sec = wavDurationSec(upload.data, upload.name);
    if (sec > maxSec) throw tooLong(sec, maxSec);
  }
  const job = ctx.drain.begin();
  const gone = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) gone.abort(new VoiceError('aborted', 'the client went away'));
  };
  reply.raw.on('close', onClose);
  const signal = AbortSignal.any([job.signal, gone.signal]);
  try {
    const audio = await decode(upload, signal, {
      maxSec,
      timeoutMs: ctx.config.stt.decodeTimeoutMs,
    });
    const durationSec = audio.samples.length / audio.sampleRate;
    if (durationSec > maxSec) throw tooLong(durationSec, maxSec);
    const transcript = await transcribeLong(
      runtime.engines.stt,
      { engine: runtime.engines.vad, options: segmenterOptions(ctx.config) },
      audio,
      {
        signal,
        priority: 'batch',
        ...(language ? { language } : {}),
        ...(task === 'translate' ? { translate: true } : {}),
      },
    );
    const text = transcript.text.trim();
    if (format === 'text') return reply.type('text/plain; charset=utf-8').send(text);
    if (format === 'srt')
      return reply.type('application/x-subrip; charset=utf-8').send(toSrt(transcript.segments));
    if (format === 'vtt') return reply.type('text/vtt; charset=utf-8').send(toVtt(transcript.segments));
    if (format === 'json') return { text };
    return {
      task,
      language: transcript.language,
      duration: durationSec,
      text,
      segments: transcript.segments.map((s, id) => ({
        id,
        start: s.startSec,
        end: s.endSec,
        text: s.text,
      })),
    };
  } finally {
    reply.raw.off('close', onClose);
    job.end();
  }
}

async function readFile(part: MultipartFile): Promise<Buffer> {
  const data = await part.toBuffer();
  if (part.file.truncated)
    throw new VoiceError('body_too_large', 'the upload is larger than the upload limit');
  return data;
}

async function decode(
  upload: { name: string; data: Buffer },
  signal: AbortSignal,
  limits: FfmpegLimits,
): Promise<Audio> {
  if (upload.data.length === 0) throw new VoiceError('empty_audio', `${upload.name}: the upload is empty`);
  if (upload.data.toString('ascii', 0, 4) === 'RIFF') {
    try {
      return await decodeWavOffLoop(upload.data, upload.name, {
        signal,
        timeoutMs: limits.timeoutMs,
        toRate: 16000,
      });
    } catch (err) {
      // A WAV in an encoding we do not read (A-law, ADPCM…): ffmpeg may.
      if (!(err instanceof VoiceError && err.code === 'unsupported_audio_format')) throw err;
      return decodeWithFfmpeg(upload.data, signal, limits).catch((e: unknown) => {
        throw e instanceof VoiceError && e.code === 'unsupported_audio_format' ? err : e;
      });
    }
  }
  return decodeWithFfmpeg(upload.data, signal, limits);
}

function tooLong(sec: number, maxSec: number): VoiceError {
  return new VoiceError(
    'audio_too_long',
    `the audio lasts ${Math.round(sec)} s; the limit is ${maxSec} s (stt.maxAudioSec)`,
  );
}
