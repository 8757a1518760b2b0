import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import { SmartTurn } from '../src/engines/turn/smart-turn.js';
import { silentLogger } from '../src/log.js';
import { MODELS_DIR, TESTAUDIO_DIR } from './helpers.js';

/**
 * The TypeScript feature extractor and the engine against the reference implementation:
 * test/fixtures/smart-turn/ was written by scripts/smart-turn-reference.py (transformers'
 * WhisperFeatureExtractor(chunk_length=8) and Python onnxruntime) on the same real recordings.
 */
const FIXTURES = 'test/fixtures/smart-turn';
interface Clip {
  name: string;
  file: string;
  keepSec: number | null;
  probability: number;
  features?: string;
}
const reference = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as { clips: Clip[] };

const audio = new Map<string, Float32Array>();
function clipAudio(clip: Clip): Float32Array {
  return audio.get(clip.name)!;
}

let engine: SmartTurn;
beforeAll(async () => {
  for (const clip of reference.clips) {
    const { samples, sampleRate } = await readWav(join(TESTAUDIO_DIR, clip.file));
    expect(sampleRate).toBe(16000);
    audio.set(
      clip.name,
      clip.keepSec === null ? samples : samples.slice(0, Math.round(clip.keepSec * 16000)),
    );
  }
  engine = await SmartTurn.load(join(MODELS_DIR, 'smart-turn-v3.2-cpu.onnx'), 'smart-turn-v3.2-cpu', {
    threads: 1,
    device: 'cpu',
    logger: silentLogger,
  });
});
afterAll(() => engine?.close());

describe('Smart Turn v3.2 on real recordings', () => {
  it('has reference clips with and without features', () => {
    expect(reference.clips.filter((c) => c.features).length).toBeGreaterThanOrEqual(2);
    expect(reference.clips.length).toBeGreaterThanOrEqual(8);
  });

  for (const clip of reference.clips.filter((c) => c.features))
    it(`log-mel features of ${clip.name} are within 1e-3 of transformers`, () => {
      const raw = readFileSync(join(FIXTURES, clip.features!));
      const expected = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      const got = engine.features(clipAudio(clip));
      expect(got.length).toBe(80 * 800);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-3);
      // The fixture is not flat: a wrong extractor cannot pass by producing a constant.
      expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(1);
    });

  for (const clip of reference.clips)
    it(`probability of ${clip.name} is within 0.01 of the reference (${clip.probability.toFixed(3)})`, async () => {
      const { probability } = await engine.predict(clipAudio(clip));
      expect(Math.abs(probability - clip.probability)).toBeLessThan(0.01);
    });

  it('zero-pads short audio at the front and keeps only the last 8 s of long audio', () => {
    const jfk = clipAudio(reference.clips.find((c) => c.name === 'jfk_full')!);
    expect(jfk.length).toBeGreaterThan(8 * 16000);
    const last8 = jfk.slice(jfk.length - 8 * 16000);
    expect(engine.features(jfk)).toEqual(engine.features(last8));
    const silence = engine.features(new Float32Array(16000));
    expect(silence.every((v) => v === silence[0])).toBe(true);
  });

  it('refuses a file that is not a Smart Turn model', async () => {
    await expect(
      SmartTurn.load(join(MODELS_DIR, 'silero_vad.onnx'), 'silero_vad', {
        threads: 1,
        device: 'cpu',
        logger: silentLogger,
      }),
    ).rejects.toMatchObject({ code: 'engine_unavailable' });
  });
});
