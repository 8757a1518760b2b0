import { spawn } from 'node:child_process';
import { int16ToFloat32 } from './pcm.js';
import type { Audio } from './wav.js';
import { VoiceError } from '../errors.js';

const RATE = 16000;

/**
 * Decodes any audio ffmpeg reads (mp3, ogg/opus, webm, m4a, flac…) to 16 kHz mono. Without ffmpeg
 * on the PATH this is an `unsupported_audio_format` error that says so.
 */
export function decodeWithFfmpeg(input: Buffer, signal: AbortSignal, command = 'ffmpeg'): Promise<Audio> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      command,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        'pipe:0',
        '-f',
        's16le',
        '-ac',
        '1',
        '-ar',
        String(RATE),
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], signal },
    );
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdin.on('error', () => undefined); // ffmpeg may stop reading early on bad input
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        reject(
          new VoiceError(
            'unsupported_audio_format',
            'only WAV is read without ffmpeg; install ffmpeg to upload mp3, ogg, webm, m4a or flac',
          ),
        );
      else if (signal.aborted) reject(new VoiceError('aborted', 'decoding cancelled'));
      else reject(new VoiceError('invalid_audio', `ffmpeg failed: ${e.message}`));
    });
    child.on('close', (code) => {
      if (code !== 0) {
        if (code !== null)
          reject(
            new VoiceError(
              'invalid_audio',
              `ffmpeg cannot read the upload: ${err.trim().split('\n')[0] ?? code}`,
            ),
          );
        return;
      }
      const bytes = Buffer.concat(out);
      const pcm = new Int16Array(Math.floor(bytes.length / 2));
      for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(i * 2);
      if (pcm.length === 0) return reject(new VoiceError('empty_audio', 'the upload holds no audio samples'));
      resolve({ samples: int16ToFloat32(pcm), sampleRate: RATE });
    });
    child.stdin.end(input);
  });
}
