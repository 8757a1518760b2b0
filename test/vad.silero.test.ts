import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../src/audio/resample.js';
import { readWav } from '../src/audio/wav.js';
import type { SileroVad } from '../src/engines/vad/silero.js';
import { VadSegmenter, detectSpeech } from '../src/engines/vad/segmenter.js';
import { TESTAUDIO_DIR, loadTestVad } from './helpers.js';

const opts = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, prefixPaddingMs: 300 };
let vad: SileroVad;

beforeAll(async () => {
  vad = await loadTestVad();
});
afterAll(() => vad?.close());

/** RTTM speech regions: start and end in seconds. */
function rttm(file: string): [number, number][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/))
    .map((f) => [Number(f[3]), Number(f[3]) + Number(f[4])]);
}

describe('Silero VAD on real audio', () => {
  const commands = readdirSync(join(TESTAUDIO_DIR, 'fr/s2p_jlo')).filter((f) => f.endsWith('.wav'));

  it('finds the 42 French command files', () => expect(commands).toHaveLength(42));

  it.each(commands)('exactly one speech segment in %s', async (file) => {
    const audio = await readWav(join(TESTAUDIO_DIR, 'fr/s2p_jlo', file));
    const segments = await detectSpeech(vad, audio.samples, audio.sampleRate, opts);
    expect(segments).toHaveLength(1);
  });

  it.each(['leopard_empty_noise.wav', 's2p_background_noise.wav'])('no speech in noise: %s', async (file) => {
    const audio = await readWav(join(TESTAUDIO_DIR, 'vad', file));
    expect(await detectSpeech(vad, audio.samples, audio.sampleRate, opts)).toEqual([]);
  });

  const labelled = () => rttm(join(TESTAUDIO_DIR, 'vad/cobra_sample.rttm'));

  it('matches the labelled regions of cobra_sample.wav within 100 ms at each edge', async () => {
    const audio = await readWav(join(TESTAUDIO_DIR, 'vad/cobra_sample.wav'));
    const segments = await detectSpeech(vad, audio.samples, audio.sampleRate, opts);
    const truth = labelled();
    expect(segments).toHaveLength(truth.length);
    segments.forEach((s, i) => {
      expect(Math.abs(s.startSec - truth[i]![0]), `start of region ${i}`).toBeLessThanOrEqual(0.1);
      expect(Math.abs(s.endSec - truth[i]![1]), `end of region ${i}`).toBeLessThanOrEqual(0.1);
    });
  });

  it.each([8000, 24000, 48000])(
    'gives the same regions from %i Hz input, fed live in 20 ms chunks',
    async (rate) => {
      const audio = await readWav(join(TESTAUDIO_DIR, 'vad/cobra_sample.wav'));
      const input = resample(audio.samples, audio.sampleRate, rate);
      const seg = new VadSegmenter(vad, opts, rate);
      const ends = [];
      const chunk = rate / 50;
      for (let i = 0; i < input.length; i += chunk)
        ends.push(...(await seg.push(input.subarray(i, i + chunk))));
      ends.push(...(await seg.flush()));
      const segments = ends.filter((e) => e.type === 'speech_end');
      const truth = labelled();
      expect(segments).toHaveLength(truth.length);
      segments.forEach((s, i) => {
        expect(Math.abs(s.startSample / rate - truth[i]![0])).toBeLessThanOrEqual(0.1);
        expect(Math.abs(s.endSample / rate - truth[i]![1])).toBeLessThanOrEqual(0.1);
      });
    },
  );

  it('resets the recurrent state per stream: the same file twice gives the same probabilities', async () => {
    const audio = await readWav(join(TESTAUDIO_DIR, 'fr/s2p_jlo', commands[0]!));
    const a = new VadSegmenter(vad, opts, 16000, true);
    await a.push(audio.samples);
    const b = new VadSegmenter(vad, opts, 16000, true);
    await b.push(audio.samples);
    expect(b.probabilities).toEqual(a.probabilities);
    a.reset();
    a.probabilities.length = 0;
    await a.push(audio.samples);
    expect(a.probabilities).toEqual(b.probabilities);
  });
});
