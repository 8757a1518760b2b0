import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { VoiceError } from '../errors.js';
import { TESTAUDIO_DIR } from '../testing/testaudio.js';
import { decodeWithFfmpeg } from './ffmpeg.js';
import { decodeWav } from './wav.js';

// Real ffmpeg (scripts/setup.sh installs it) on a real French recording of 2.2 s.
const SPEECH = join(TESTAUDIO_DIR, 'fr/s2p_jlo/jlo_02_allume_la_lumiere.wav');
const dir = mkdtempSync(join(tmpdir(), 'ffmpeg-test-'));
const limits = { maxSec: 60, timeoutMs: 20_000 };
const never = new AbortController().signal;

function encode(name: string, ...args: string[]): Buffer {
  const out = join(dir, name);
  execFileSync('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', ...args, out]);
  return readFileSync(out);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof VoiceError ? err.code : String(err);
  }
}

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

let speechSec = 0;
beforeAll(() => {
  const wav = decodeWav(readFileSync(SPEECH));
  speechSec = wav.samples.length / wav.sampleRate;
});

describe('decodeWithFfmpeg', () => {
  it.each([
    ['mp3', []],
    ['ogg', ['-c:a', 'libopus']],
    ['webm', ['-c:a', 'libopus']],
    ['m4a', []],
    ['flac', []],
  ])('reads real speech in %s as 16 kHz mono of the same length', async (ext, codec) => {
    const file = encode(`speech.${ext}`, '-i', SPEECH, ...codec);
    const audio = await decodeWithFfmpeg(file, never, limits);
    expect(audio.sampleRate).toBe(16000);
    expect(Math.abs(audio.samples.length / 16000 - speechSec)).toBeLessThan(0.1);
    let peak = 0;
    for (const x of audio.samples) peak = Math.max(peak, Math.abs(x));
    expect(peak).toBeGreaterThan(0.05);
  });

  it('ffmpegReadsOnlyAcceptedDemuxers: an HLS playlist naming a local file and an AIFF are refused, not read', async () => {
    const playlist = Buffer.from(
      `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://${SPEECH}\n#EXT-X-ENDLIST\n`,
    );
    expect(await codeOf(decodeWithFfmpeg(playlist, never, limits))).toBe('unsupported_audio_format');
    const concat = Buffer.from(`ffconcat version 1.0\nfile '${SPEECH}'\n`);
    expect(await codeOf(decodeWithFfmpeg(concat, never, limits))).not.toBe('resolved');
    const aiff = encode('speech.aiff', '-i', SPEECH);
    expect(await codeOf(decodeWithFfmpeg(aiff, never, limits))).toBe('unsupported_audio_format');
  });

  it('a file with only a video stream is invalid_audio, and its video is never decoded', async () => {
    const video = encode('video.mkv', '-f', 'lavfi', '-i', 'testsrc=d=1:s=64x64', '-c:v', 'ffv1');
    await expect(decodeWithFfmpeg(video, never, limits)).rejects.toMatchObject({
      code: 'invalid_audio',
      message: expect.stringMatching(/no audio stream/) as unknown,
    });
  });

  it('ffmpegOutputStopsAtMaxSec: audio longer than the limit is audio_too_long', async () => {
    const long = encode('long.mp3', '-f', 'lavfi', '-i', 'sine=f=440:d=30', '-b:a', '32k');
    await expect(decodeWithFfmpeg(long, never, { ...limits, maxSec: 2 })).rejects.toMatchObject({
      code: 'audio_too_long',
    });
  });

  it('ffmpegOutputIsCapped: a decoder that writes samples without end is killed past the limit', async () => {
    const endless = script('endless.sh', 'exec cat /dev/zero');
    expect(
      await codeOf(decodeWithFfmpeg(Buffer.from('x'), never, { ...limits, maxSec: 1, command: endless })),
    ).toBe('audio_too_long');
  });

  it('ffmpegHungIsKilledAtItsTimeout: a decoder that never finishes is a timeout, not a request left waiting', async () => {
    const hang = script('hang.sh', 'exec sleep 60');
    const started = performance.now();
    expect(
      await codeOf(decodeWithFfmpeg(Buffer.from('x'), never, { ...limits, timeoutMs: 300, command: hang })),
    ).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('ffmpegKilledFromOutsideRejects: a decoder killed by a signal (null exit code) is invalid_audio', async () => {
    const killed = script('killed.sh', 'kill -9 $$');
    expect(await codeOf(decodeWithFfmpeg(Buffer.from('x'), never, { ...limits, command: killed }))).toBe(
      'invalid_audio',
    );
  });

  it('an abort (the client went away) stops the decoder and rejects with aborted', async () => {
    const hang = script('hang2.sh', 'exec sleep 60');
    const stop = new AbortController();
    const p = decodeWithFfmpeg(Buffer.from('x'), stop.signal, { ...limits, command: hang });
    setTimeout(() => stop.abort(), 100);
    expect(await codeOf(p)).toBe('aborted');
  });

  it('without ffmpeg on the PATH the error says to install it', async () => {
    await expect(
      decodeWithFfmpeg(Buffer.from('x'), never, { ...limits, command: join(dir, 'no-such-ffmpeg') }),
    ).rejects.toMatchObject({
      code: 'unsupported_audio_format',
      message: expect.stringMatching(/install ffmpeg/) as unknown,
    });
  });
});
