import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import { loadConfig } from '../src/config.js';
import { VoiceError } from '../src/errors.js';
import { WhisperStt } from '../src/engines/stt/whisper.js';
import type { SileroVad } from '../src/engines/vad/silero.js';
import { silentLogger } from '../src/log.js';
import { frenchCommands } from '../src/testing/testaudio.js';
import { corpusWer } from '../src/testing/wer.js';
import { MODELS_DIR, TESTAUDIO_DIR, loadTestVad } from './helpers.js';

let vad: SileroVad;
let stt: WhisperStt;
const defaults = loadConfig({ env: {} });

beforeAll(async () => {
  vad = await loadTestVad();
  // The shipped defaults (language fr, audioCtx auto) with 2 threads, as on the CI machine.
  stt = WhisperStt.load(join(MODELS_DIR, 'ggml-base-q5_1.bin'), 'ggml-base-q5_1', {
    threads: 2,
    device: 'cpu',
    logger: silentLogger,
    language: defaults.stt.language,
    audioCtx: defaults.stt.audioCtx,
    timeoutMs: defaults.stt.timeoutMs,
    vad: { engine: vad, options: defaults.vad },
  });
});
afterAll(async () => {
  await stt?.close();
  await vad?.close();
});

const wav = (file: string) => readWav(join(TESTAUDIO_DIR, file));

describe('whisper.cpp STT on real speech', () => {
  it('transcribes the scripted French commands with a corpus WER at most 25 %', async () => {
    const pairs = [];
    for (const clip of frenchCommands()) {
      const result = await stt.transcribe(await readWav(clip.path));
      expect(result.language).toBe('fr');
      pairs.push({ reference: clip.transcript, hypothesis: result.text });
    }
    const { wer, edits, words } = corpusWer(pairs);
    console.log(
      `French commands: ${pairs.length} files, WER ${(wer * 100).toFixed(1)} % (${edits}/${words} words)`,
    );
    expect(pairs).toHaveLength(39);
    expect(wer).toBeLessThanOrEqual(0.25);
  }, 300_000);

  it.each(['vad/leopard_empty_noise.wav', 'vad/s2p_background_noise.wav'])(
    'gives empty text on noise: %s',
    async (file) => {
      const result = await stt.transcribe(await wav(file));
      expect(result.text).toBe('');
      expect(result.dropped).toBe('no_speech');
      expect(result.timing.decodeMs).toBe(0);
    },
  );

  it('transcribes English when asked, segments with times', async () => {
    const result = await stt.transcribe(await wav('en/wcpp_jfk.wav'), { language: 'en' });
    expect(result.text.toLowerCase()).toContain('ask not what your country can do for you');
    expect(result.segments.length).toBeGreaterThan(0);
    expect(result.segments.at(-1)!.endSec).toBeLessThanOrEqual(11.1);
    expect(result.timing.audioSec).toBeCloseTo(11, 0);
  });

  it('detects the language with auto', async () => {
    const fr = await stt.transcribe(await wav('fr/s2p_jlo/jlo_28_ouvre_les_volets_du_premier_etage.wav'), {
      language: 'auto',
    });
    expect(fr.language).toBe('fr');
    const en = await stt.transcribe(await wav('en/wcpp_jfk.wav'), { language: 'auto' });
    expect(en.language).toBe('en');
  });

  it('cancel mid-way returns in under 200 ms, and the next file transcribes correctly', async () => {
    const jfk = await wav('en/wcpp_jfk.wav');
    const controller = new AbortController();
    const pending = stt.transcribe(jfk, { language: 'en', signal: controller.signal });
    await new Promise((r) => setTimeout(r, 400)); // well inside the encoder pass
    const abortedAt = performance.now();
    controller.abort();
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    const returnedIn = performance.now() - abortedAt;
    expect(err).toBeInstanceOf(VoiceError);
    expect((err as VoiceError).code).toBe('aborted');
    expect(returnedIn).toBeLessThan(200);
    const next = await stt.transcribe(await wav('fr/s2p_jlo/jlo_01_allume_la_chambre_a_80.wav'));
    expect(next.text).toMatch(/allume la chambre à 80 ?%/i);
  });

  it('a job queued behind a cancelled one waits for the native side, then runs (race: abort while busy)', async () => {
    const jfk = await wav('en/wcpp_jfk.wav');
    const controller = new AbortController();
    const first = stt.transcribe(jfk, { language: 'en', signal: controller.signal }).catch((e: unknown) => e);
    const second = stt.transcribe(await wav('fr/s2p_jlo/jlo_29_ouvre_les_volets.wav'));
    setTimeout(() => controller.abort(), 100);
    expect(((await first) as VoiceError).code).toBe('aborted');
    expect((await second).text.length).toBeGreaterThan(0);
  });

  it('batchJobPreemptedByALiveTurnIsRunAgain: a file job that steps aside mid-run for a voice turn completes after it', async () => {
    const jfk = await wav('en/wcpp_jfk.wav');
    const batch = stt.transcribe(jfk, { language: 'en', priority: 'batch' });
    await new Promise((r) => setTimeout(r, 300)); // inside the file's encoder pass
    const live = await stt.transcribe(await wav('fr/s2p_jlo/jlo_01_allume_la_chambre_a_80.wav'), {
      priority: 'live',
      speechKnown: true,
    });
    expect(live.text).toMatch(/allume la chambre/i);
    // Before: whisper.cpp rejected the stopped job ("Transcription cancelled"), a 502 for the file.
    expect((await batch).text).toMatch(/ask not what your country can do for you/i);
  });

  it('an already-aborted signal never starts a job', async () => {
    const err = await stt
      .transcribe(await wav('en/wcpp_jfk.wav'), { signal: AbortSignal.abort() })
      .catch((e: unknown) => e as VoiceError);
    expect((err as VoiceError).code).toBe('aborted');
  });
});
