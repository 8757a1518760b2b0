import { spawn } from 'node:child_process';
import type { Audio } from './wav.js';
import { VoiceError } from '../errors.js';

const RATE = 16000;
const STDERR_CAP = 4096;

/**
 * The demuxers an upload may be read with: what OpenAI's audio endpoints take (mp3, mp4/m4a,
 * ogg, webm, flac, wav) plus raw AAC. Playlists (HLS, concat), SDP and the rest are refused, so an
 * upload can never make ffmpeg open another file or a URL.
 */
export const ACCEPTED_DEMUXERS = ['mp3', 'mov', 'ogg', 'matroska', 'flac', 'wav', 'aac'] as const;

export interface FfmpegLimits {
  /** Longest audio decoded; longer is `audio_too_long`, found after at most this much decoding. */
  maxSec: number;
  /** The whole decoding, from spawn to the last sample. */
  timeoutMs: number;
  command?: string;
}

/**
 * Decodes what ffmpeg reads with an accepted demuxer to 16 kHz mono float samples, in a child
 * process (the event loop only copies bytes). Only `pipe:` is open to it, the first audio stream
 * is read (video is never decoded), the output stops at `maxSec` + 1 s, and a decoding past
 * `timeoutMs` or killed from outside is an error, never a request left waiting. Without ffmpeg on
 * the PATH this is an `unsupported_audio_format` error that says so.
 */
export function decodeWithFfmpeg(input: Buffer, signal: AbortSignal, limits: FfmpegLimits): Promise<Audio> {
  const maxBytes = (limits.maxSec + 1) * RATE * 4;
  return new Promise((resolve, reject) => {
    const stop = new AbortController();
    const child = spawn(
      limits.command ?? 'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-protocol_whitelist',
        'pipe',
        '-format_whitelist',
        ACCEPTED_DEMUXERS.join(','),
        '-threads',
        '1',
        '-i',
        'pipe:0',
        '-map',
        '0:a:0',
        '-vn',
        '-sn',
        '-dn',
        '-t',
        String(limits.maxSec + 1),
        '-f',
        'f32le',
        '-ac',
        '1',
        '-ar',
        String(RATE),
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], signal: stop.signal },
    );
    let failure: VoiceError | undefined;
    const fail = (e: VoiceError) => {
      failure ??= e;
      stop.abort();
    };
    const onAbort = () => fail(new VoiceError('aborted', 'decoding cancelled'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => fail(new VoiceError('timeout', `decoding took longer than ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    const out: Buffer[] = [];
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      bytes += b.length;
      if (bytes > maxBytes) return fail(tooLong(limits.maxSec));
      out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < STDERR_CAP) err += b.toString().slice(0, STDERR_CAP - err.length);
    });
    child.stdin.on('error', () => undefined); // ffmpeg may stop reading early on bad input
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        fail(
          new VoiceError(
            'unsupported_audio_format',
            'only WAV is read without ffmpeg; install ffmpeg to upload mp3, ogg, webm, m4a or flac',
          ),
        );
      else if (e.name !== 'AbortError') fail(new VoiceError('invalid_audio', `ffmpeg failed: ${e.message}`));
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(readError(err, code, killedBy));
      const samples = concatFloat32(out, bytes);
      if (samples.length === 0)
        return reject(new VoiceError('empty_audio', 'the upload holds no audio samples'));
      if (samples.length > limits.maxSec * RATE) return reject(tooLong(limits.maxSec));
      resolve({ samples, sampleRate: RATE });
    });
    child.stdin.end(input);
  });
}

function readError(stderr: string, code: number | null, killedBy: NodeJS.Signals | null): VoiceError {
  if (code === null)
    return new VoiceError('invalid_audio', `ffmpeg was stopped by ${killedBy ?? 'a signal'} before the end`);
  const first = stderr.trim().split('\n')[0] || `exit status ${code}`;
  if (/not on whitelist/.test(first))
    return new VoiceError(
      'unsupported_audio_format',
      'the upload is not in an accepted format: mp3, mp4/m4a, ogg, webm, flac, wav or aac',
    );
  if (/matches no streams/.test(first))
    return new VoiceError('invalid_audio', 'the upload holds no audio stream');
  return new VoiceError('invalid_audio', `ffmpeg cannot read the upload: ${first}`);
}

function tooLong(maxSec: number): VoiceError {
  return new VoiceError(
    'audio_too_long',
    `the audio lasts more than ${maxSec} s; the limit is ${maxSec} s (stt.maxAudioSec)`,
  );
}

/** Copies little-endian float chunks into one aligned array; a trailing partial sample is dropped. */
function concatFloat32(chunks: Buffer[], bytes: number): Float32Array {
  const samples = new Float32Array(Math.floor(bytes / 4));
  const view = new Uint8Array(samples.buffer);
  let at = 0;
  for (const c of chunks) {
    const n = Math.min(c.length, view.length - at);
    view.set(c.subarray(0, n), at);
    at += n;
  }
  return samples;
}
