import { describe, expect, it } from 'vitest';
import { FakeVad } from '../../testing/fake-vad.js';
import { VadSegmenter, detectSpeech } from './segmenter.js';
import { VAD_FRAME_SAMPLES } from './types.js';

const opts = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, prefixPaddingMs: 300 };
const FRAME_SEC = VAD_FRAME_SAMPLES / 16000; // 32 ms

/** Audio at `rate` that is loud in [start, end) seconds and silent elsewhere. */
function tone(rate: number, seconds: number, regions: [number, number][]): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (const [a, b] of regions)
    for (let i = Math.round(a * rate); i < Math.round(b * rate); i++)
      out[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
  return out;
}

describe('VadSegmenter', () => {
  it('reports start and end at frame-exact sample positions', async () => {
    // frames 10..39 speech (0.32 s .. 1.28 s)
    const vad = new FakeVad((i) => (i >= 10 && i < 40 ? 0.9 : 0.05));
    const seg = new VadSegmenter(vad, opts);
    const events = [...(await seg.push(new Float32Array(16000 * 3))), ...(await seg.flush())];
    expect(events).toEqual([
      {
        type: 'speech_start',
        startSample: 10 * 512,
        paddedStartSample: 10 * 512 - 4800,
        startSec: 10 * FRAME_SEC,
      },
      { type: 'silence_started', sample: 40 * 512 },
      {
        type: 'speech_end',
        startSample: 10 * 512,
        endSample: 40 * 512,
        startSec: 10 * FRAME_SEC,
        endSec: 40 * FRAME_SEC,
      },
    ]);
  });

  it('reports a silence inside speech when it begins, and when speech breaks it before it ends the segment', async () => {
    const vad = new FakeVad((i) => ((i >= 10 && i < 30) || (i >= 35 && i < 60) ? 0.9 : 0)); // 160 ms gap
    const seg = new VadSegmenter(vad, opts);
    const events = await seg.push(new Float32Array(16000 * 3));
    expect(events.map((e) => [e.type, 'sample' in e ? e.sample : undefined])).toEqual([
      ['speech_start', undefined],
      ['silence_started', 30 * 512],
      ['silence_broken', 35 * 512],
      ['silence_started', 60 * 512],
      ['speech_end', undefined],
    ]);
  });

  it('with reportOnsets: the first voiced frame, then voice that died out or became speech', async () => {
    // 3 voiced frames (96 ms, too short), silence, then 20 voiced frames (speech).
    const vad = new FakeVad((i) => ((i >= 10 && i < 13) || (i >= 30 && i < 50) ? 0.9 : 0));
    const seg = new VadSegmenter(vad, { ...opts, reportOnsets: true });
    const events = await seg.push(new Float32Array(16000 * 3));
    expect(events.map((e) => [e.type, 'sample' in e ? e.sample : e.startSample])).toEqual([
      ['onset', 10 * 512],
      ['onset_dropped', 13 * 512],
      ['onset', 30 * 512],
      ['speech_start', 30 * 512],
      ['silence_started', 50 * 512],
      ['speech_end', 30 * 512],
    ]);
  });

  it('ignores speech shorter than minSpeechMs', async () => {
    const vad = new FakeVad((i) => (i >= 10 && i < 15 ? 0.9 : 0)); // 160 ms
    expect(await detectSpeech(vad, new Float32Array(16000 * 2), 16000, opts)).toEqual([]);
  });

  it('keeps one segment across a pause shorter than minSilenceMs', async () => {
    const vad = new FakeVad((i) => ((i >= 10 && i < 30) || (i >= 40 && i < 60) ? 0.9 : 0)); // 320 ms gap
    const segs = await detectSpeech(vad, new Float32Array(16000 * 4), 16000, opts);
    expect(segs).toHaveLength(1);
    expect(segs[0]!.endSec).toBeCloseTo(60 * FRAME_SEC, 6);
  });

  it('splits at a pause of minSilenceMs or more', async () => {
    const vad = new FakeVad((i) => ((i >= 10 && i < 30) || (i >= 50 && i < 70) ? 0.9 : 0)); // 640 ms gap
    expect(await detectSpeech(vad, new Float32Array(16000 * 4), 16000, opts)).toHaveLength(2);
  });

  it('frames between the two thresholds neither start silence nor extend speech', async () => {
    const vad = new FakeVad((i) => (i >= 10 && i < 30 ? 0.9 : i >= 30 && i < 35 ? 0.4 : 0));
    const segs = await detectSpeech(vad, new Float32Array(16000 * 3), 16000, opts);
    expect(segs).toEqual([{ startSec: 10 * FRAME_SEC, endSec: 30 * FRAME_SEC }]);
  });

  it('closes a segment still open at the end of the stream on flush', async () => {
    const vad = new FakeVad((i) => (i >= 10 ? 0.9 : 0));
    const segs = await detectSpeech(vad, new Float32Array(16000), 16000, opts);
    expect(segs).toHaveLength(1);
    expect(segs[0]!.endSec).toBeCloseTo(1, 1);
  });

  it('gives the same events whatever the chunking', async () => {
    const make = () => new FakeVad((i) => (i % 50 >= 10 && i % 50 < 30 ? 0.9 : 0));
    const audio = new Float32Array(16000 * 5);
    const whole = await detectSpeech(make(), audio, 16000, opts);
    const seg = new VadSegmenter(make(), opts);
    const events = [];
    for (let i = 0; i < audio.length; i += 320) events.push(...(await seg.push(audio.subarray(i, i + 320))));
    events.push(...(await seg.flush()));
    expect(
      events
        .filter((e) => e.type === 'speech_end')
        .map((e) => ({ startSec: e.startSec, endSec: (e as { endSec: number }).endSec })),
    ).toEqual(whole);
    expect(whole).toHaveLength(3);
  });

  it.each([8000, 24000, 48000])(
    'resamples %i Hz input and reports positions in input samples',
    async (rate) => {
      const audio = tone(rate, 3, [[1.0, 2.0]]);
      const seg = new VadSegmenter(FakeVad.energy(), opts, rate);
      const events = [...(await seg.push(audio)), ...(await seg.flush())];
      const end = events.find((e) => e.type === 'speech_end')!;
      expect(end.startSample / rate).toBeGreaterThan(0.95);
      expect(end.startSample / rate).toBeLessThan(1.05);
      expect(end.type === 'speech_end' && end.endSample / rate).toBeGreaterThan(1.95);
      expect(end.type === 'speech_end' && end.endSample / rate).toBeLessThan(2.05);
    },
  );

  it('rejects rates it does not resample', () => {
    expect(() => new VadSegmenter(FakeVad.energy(), opts, 44100)).toThrow(/44100 Hz is not supported/);
  });

  it('resets its recurrent state for a new stream', async () => {
    const vad = new FakeVad((i) => (i >= 10 && i < 40 ? 0.9 : 0));
    const seg = new VadSegmenter(vad, opts);
    const first = await seg.push(new Float32Array(16000 * 2));
    seg.reset();
    const second = await seg.push(new Float32Array(16000 * 2));
    expect(second).toEqual(first);
  });
});
