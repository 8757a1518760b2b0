import { parentPort } from 'node:worker_threads';
import { VoiceError } from '../errors.js';
import { resample } from './resample.js';
import { decodeWav } from './wav.js';

/** Worker thread: a WAV's bytes in, its samples at the asked rate out (see decode-off-loop.ts). */
export interface DecodeRequest {
  bytes: Uint8Array;
  name: string;
  toRate: number;
}
export type DecodeReply =
  { ok: true; samples: Float32Array; sampleRate: number } | { ok: false; code: string; message: string };

parentPort?.once('message', (req: DecodeRequest) => {
  let reply: DecodeReply;
  try {
    const wav = decodeWav(
      Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength),
      req.name,
    );
    const samples = resample(wav.samples, wav.sampleRate, req.toRate);
    reply = { ok: true, samples, sampleRate: req.toRate };
  } catch (err) {
    reply =
      err instanceof VoiceError
        ? { ok: false, code: err.code, message: err.message }
        : { ok: false, code: 'invalid_audio', message: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply, reply.ok ? [reply.samples.buffer as ArrayBuffer] : []);
});
