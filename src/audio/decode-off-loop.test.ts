import { describe, expect, it } from 'vitest';
import { decodeWavOffLoop, OFF_LOOP_BYTES } from './decode-off-loop.js';
import { encodeWav } from './wav.js';

/** A stereo 44.1 kHz WAV of a 440 Hz tone, `sec` long. */
function stereoTone(sec: number): Buffer {
  const frames = Math.round(sec * 44100);
  const pcm = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++)
    pcm[2 * i] = pcm[2 * i + 1] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 44100));
  const wav = encodeWav(pcm, 44100);
  // encodeWav writes mono: mark it stereo (same bytes, half the frames).
  wav.writeUInt16LE(2, 22);
  wav.writeUInt32LE(44100 * 4, 28);
  wav.writeUInt16LE(4, 32);
  return wav;
}

const never = new AbortController().signal;
const options = { signal: never, timeoutMs: 60_000, toRate: 16000 };

describe('decodeWavOffLoop', () => {
  it('wavDecodingStaysOffTheEventLoop: a 5-minute 44.1 kHz stereo upload decodes while the loop keeps ticking', async () => {
    const wav = stereoTone(300);
    const ticks = [performance.now()];
    const ticker = setInterval(() => ticks.push(performance.now()), 5);
    const audio = await decodeWavOffLoop(wav, 'long.wav', options);
    await new Promise((r) => setTimeout(r, 30));
    clearInterval(ticker);
    const longestGapMs = Math.max(...ticks.slice(1).map((t, i) => t - ticks[i]!));
    expect(audio.sampleRate).toBe(16000);
    expect(Math.abs(audio.samples.length / 16000 - 300)).toBeLessThan(0.01);
    // On the loop this is about 1.7 s of one blocked stretch (decode + resample, 2-core EPYC);
    // in the worker the loop only copies the bytes and waits.
    expect(longestGapMs).toBeLessThan(400);
  });

  it('reads small WAVs inline with the same result as the worker', async () => {
    const small = stereoTone(1);
    expect(small.length).toBeLessThan(OFF_LOOP_BYTES);
    const inline = await decodeWavOffLoop(small, 'small.wav', options);
    const padded = stereoTone(OFF_LOOP_BYTES / 44100 / 4 + 1);
    const worker = await decodeWavOffLoop(padded, 'padded.wav', options);
    expect(inline.samples.length).toBe(16000);
    expect(Array.from(worker.samples.subarray(1000, 1100))).toEqual(
      Array.from(inline.samples.subarray(1000, 1100)),
    );
  });

  it('a bad WAV in the worker is the same catalogue error as inline', async () => {
    const wav = stereoTone(10);
    wav.writeUInt16LE(6, 20); // A-law
    await expect(decodeWavOffLoop(wav, 'alaw.wav', options)).rejects.toMatchObject({
      code: 'unsupported_audio_format',
    });
  });

  it('an abort stops the worker and rejects with aborted', async () => {
    const stop = new AbortController();
    const p = decodeWavOffLoop(stereoTone(300), 'long.wav', { ...options, signal: stop.signal });
    stop.abort();
    await expect(p).rejects.toMatchObject({ code: 'aborted' });
  });

  it('a decoding past its time limit is a timeout', async () => {
    await expect(
      decodeWavOffLoop(stereoTone(300), 'long.wav', { ...options, timeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: 'timeout',
    });
  });
});
