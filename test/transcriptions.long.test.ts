import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatFloat32, float32ToInt16 } from '../src/audio/pcm.js';
import { encodeWav, readWav } from '../src/audio/wav.js';
import { loadConfig, type Config } from '../src/config.js';
import { loadStt } from '../src/engines/factory.js';
import { loadHostAddon } from '../src/engines/stt/whisper-native.js';
import type { WhisperStt } from '../src/engines/stt/whisper.js';
import type { SileroVad } from '../src/engines/vad/silero.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { frenchCommands } from '../src/testing/testaudio.js';
import { corpusWer } from '../src/testing/wer.js';
import { MODELS_DIR, loadTestVad, requireSharedAssets } from './helpers.js';

/**
 * Long files through /v1/audio/transcriptions on the real Silero and Whisper: a 35 s and a
 * 5-minute French recording made of the real commands of ../shared/testaudio one after another,
 * each with its own silences (no longer real French recording is in ../shared). The route's WER must
 * stay within 2 points of raw whisper.cpp decoding the same audio in one call (its own 30 s windows).
 */
let config: Config;
let vad: SileroVad;
let stt: WhisperStt;
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;

async function recording(minSec: number): Promise<{ wav: Buffer; samples: Float32Array; reference: string }> {
  const parts: Float32Array[] = [];
  const words: string[] = [];
  let total = 0;
  for (let i = 0; total < minSec * 16000; i++) {
    const clip = frenchCommands()[i % frenchCommands().length]!;
    const { samples, sampleRate } = await readWav(clip.path);
    expect(sampleRate).toBe(16000);
    parts.push(samples);
    words.push(clip.transcript);
    total += samples.length;
  }
  const samples = concatFloat32(parts);
  return { wav: encodeWav(float32ToInt16(samples), 16000), samples, reference: words.join(' ') };
}

async function transcribe(wav: Buffer, format: string): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'long.wav');
  form.append('model', 'whisper-1');
  form.append('response_format', format);
  return fetch(`${url}/v1/audio/transcriptions`, { method: 'POST', body: form });
}

/** whisper.cpp alone, the whole file in one call, with the engine's shipped decoding settings. */
async function rawWhisper(samples: Float32Array): Promise<string> {
  const mod = loadHostAddon();
  const ctx = new mod.WhisperContext({ filePath: join(MODELS_DIR, 'ggml-base-q5_1.bin'), useGpu: false });
  try {
    const job = ctx.transcribeData(float32ToInt16(samples).buffer as ArrayBuffer, {
      language: 'fr',
      maxThreads: 2,
      beamSize: config.stt.beamSize,
    });
    return (await job.promise).result;
  } finally {
    await ctx.release();
  }
}

/**
 * Raw whisper.cpp on the 5-minute recording takes over two minutes here and is a fixed baseline:
 * its transcript is kept in test/fixtures with what it depends on (the model file, the audio, the
 * decoding settings), and decoded again only when one of them changed.
 * `UPDATE_FIXTURES=1 npx vitest run test/transcriptions.long.test.ts` rewrites it.
 */
const RAW_FIXTURE = join(import.meta.dirname, 'fixtures', 'raw-whisper-5min.json');

async function rawWhisperKept(samples: Float32Array): Promise<string> {
  const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
  const key = {
    model: sha(readFileSync(join(MODELS_DIR, 'ggml-base-q5_1.bin'))),
    audio: sha(new Uint8Array(float32ToInt16(samples).buffer)),
    language: 'fr',
    beamSize: config.stt.beamSize,
    threads: 2,
  };
  const kept = existsSync(RAW_FIXTURE)
    ? (JSON.parse(readFileSync(RAW_FIXTURE, 'utf8')) as { key: typeof key; transcript: string })
    : undefined;
  if (kept && JSON.stringify(kept.key) === JSON.stringify(key) && !process.env.UPDATE_FIXTURES)
    return kept.transcript;
  console.log(`${RAW_FIXTURE}: ${kept ? 'stale' : 'missing'}; decoding with raw whisper.cpp`);
  const transcript = await rawWhisper(samples);
  if (process.env.UPDATE_FIXTURES)
    writeFileSync(RAW_FIXTURE, `${JSON.stringify({ key, transcript }, null, 2)}\n`);
  return transcript;
}

beforeAll(async () => {
  requireSharedAssets();
  config = loadConfig({ env: { MODELS_DIR }, overrides: { stt: { threads: 2, maxAudioSec: 600 } } });
  vad = await loadTestVad();
  stt = await loadStt(config, new ModelManager({ modelsDir: MODELS_DIR }), silentLogger, vad);
  const runtime = await fakeRuntime({ vad, stt });
  app = await buildServer({
    config,
    logger: silentLogger,
    runtime: () => runtime,
    store: new SqliteStore(':memory:'),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app?.close();
  await stt?.close();
  await vad?.close();
});

describe('long recordings through /v1/audio/transcriptions', () => {
  it('35 s: verbose_json with segments on the file clock, srt (json and vtt on a short file)', async () => {
    const { wav, samples, reference } = await recording(35);
    const duration = samples.length / 16000;
    expect(duration).toBeGreaterThan(35);
    // One transcription of the long file per format that shows its length (each takes ~12 s here):
    // verbose_json's text is what json returns.
    const verbose = (await (await transcribe(wav, 'verbose_json')).json()) as {
      text: string;
      duration: number;
      segments: { start: number; end: number; text: string }[];
    };
    const ours = corpusWer([{ reference, hypothesis: verbose.text }]);
    const raw = corpusWer([{ reference, hypothesis: await rawWhisper(samples) }]);
    console.log(
      `35 s: WER ${(ours.wer * 100).toFixed(1)} % (raw whisper.cpp ${(raw.wer * 100).toFixed(1)} %)`,
    );
    expect(ours.wer).toBeLessThanOrEqual(raw.wer + 0.02);
    expect(verbose.duration).toBeCloseTo(duration, 1);
    expect(verbose.segments.length).toBeGreaterThan(3);
    const starts = verbose.segments.map((s) => s.start);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(verbose.segments.at(-1)!.end).toBeGreaterThan(28);
    expect(verbose.segments.at(-1)!.end).toBeLessThanOrEqual(duration + 0.01);
    const srt = await (await transcribe(wav, 'srt')).text();
    expect(srt).toMatch(/^1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n\S/);
    expect(srt).toContain('00:00:3'); // cues past 30 s
    // The vtt writer shares the segments of srt, json the text of verbose_json: one short command
    // is enough to see their formats.
    const short = await recording(1);
    const vtt = await (await transcribe(short.wav, 'vtt')).text();
    expect(vtt).toMatch(/^WEBVTT\n\n00:00:\d\d\.\d{3} --> 00:00:\d\d\.\d{3}\n\S/);
    const json = (await (await transcribe(short.wav, 'json')).json()) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['text']);
    expect(String(json.text).length).toBeGreaterThan(0);
  });

  it('5 minutes: complete, within 2 points of raw whisper.cpp', async () => {
    const { wav, samples, reference } = await recording(300);
    const res = await transcribe(wav, 'json');
    expect(res.status).toBe(200);
    const { text } = (await res.json()) as { text: string };
    const ours = corpusWer([{ reference, hypothesis: text }]);
    const raw = corpusWer([{ reference, hypothesis: await rawWhisperKept(samples) }]);
    console.log(
      `5 min (${(samples.length / 16000).toFixed(0)} s, ${ours.words} words): WER ${(ours.wer * 100).toFixed(1)} % (raw whisper.cpp ${(raw.wer * 100).toFixed(1)} %)`,
    );
    expect(ours.wer).toBeLessThanOrEqual(raw.wer + 0.02);
    // Raw whisper.cpp loses whole windows on this file (52 %): on its own the bound above is loose.
    // The route decodes speech segments and measured 20.9 % here.
    expect(ours.wer).toBeLessThanOrEqual(0.3);
  }, 600_000);

  it('audio over stt.maxAudioSec is refused with 413 audio_too_long before decoding', async () => {
    const long = Buffer.concat([encodeWav(new Int16Array(16), 16000).subarray(0, 44)]);
    // A header that claims 700 s of 16 kHz mono PCM16 (the data is not all there: not decoded).
    long.writeUInt32LE(700 * 32000, 40);
    const res = await transcribe(Buffer.concat([long, Buffer.alloc(32000 * 700)]), 'json');
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('audio_too_long');
  });
});
