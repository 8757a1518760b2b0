import { Worker } from 'node:worker_threads';
import { VoiceError, type ErrorCode } from '../errors.js';
import { workerUrl } from '../runtime/worker-url.js';
import type { DecodeReply, DecodeRequest } from './decode-worker.js';
import { resample } from './resample.js';
import { decodeWav, type Audio } from './wav.js';

/** Below this a WAV decodes in a few milliseconds: a worker would cost more than it saves. */
export const OFF_LOOP_BYTES = 1 << 20;

export interface OffLoopOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Output rate (16 kHz: what the VAD and Whisper hear). */
  toRate: number;
}

/**
 * Decodes and resamples a WAV upload. Large ones (a 3-minute 44.1 kHz stereo file blocks a thread
 * for about a second on this project's 2-core reference machine) run in a worker thread, so live
 * sessions keep their event loop; the worker is terminated on abort or past `timeoutMs`.
 */
export async function decodeWavOffLoop(buf: Buffer, name: string, options: OffLoopOptions): Promise<Audio> {
  if (buf.length < OFF_LOOP_BYTES) {
    const wav = decodeWav(buf, name);
    return { samples: resample(wav.samples, wav.sampleRate, options.toRate), sampleRate: options.toRate };
  }
  const worker = new Worker(workerUrl(import.meta.url, './decode-worker.js'));
  const { signal, timeoutMs } = options;
  try {
    return await new Promise<Audio>((resolve, reject) => {
      const onAbort = () => reject(new VoiceError('aborted', 'decoding cancelled'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () => reject(new VoiceError('timeout', `decoding took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      worker.once('message', (reply: DecodeReply) => {
        done();
        if (reply.ok) resolve({ samples: reply.samples, sampleRate: reply.sampleRate });
        else reject(new VoiceError(reply.code as ErrorCode, reply.message));
      });
      worker.once('error', (err) => {
        done();
        reject(new VoiceError('invalid_audio', `decoding failed: ${err.message}`));
      });
      worker.once('exit', (code) => {
        done();
        reject(new VoiceError('invalid_audio', `the decoder stopped (exit ${code})`));
      });
      const request: DecodeRequest = { bytes: buf, name, toRate: options.toRate };
      worker.postMessage(request);
    });
  } finally {
    void worker.terminate();
  }
}
