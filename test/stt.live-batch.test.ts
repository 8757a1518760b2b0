import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import type { VoiceError } from '../src/errors.js';
import { WhisperStt } from '../src/engines/stt/whisper.js';
import { silentLogger } from '../src/log.js';
import { MODELS_DIR, TESTAUDIO_DIR, requireSharedAssets } from './helpers.js';

/** stt.liveBatching on the real whisper.cpp: turns that wait together share one window. */
let stt: WhisperStt;
const live = { speechKnown: true, audioCtx: 400, beamSize: 1 } as const;
const wav = (name: string) => readWav(join(TESTAUDIO_DIR, 'fr/s2p_jlo', `${name}.wav`));

beforeAll(() => {
  requireSharedAssets();
  stt = WhisperStt.load(join(MODELS_DIR, 'ggml-base-q5_1.bin'), 'ggml-base-q5_1', {
    threads: 2,
    device: 'cpu',
    logger: silentLogger,
    language: 'fr',
    audioCtx: 400,
    timeoutMs: 30_000,
    batchLive: true,
  });
});
afterAll(() => stt?.close());

describe('whisper.cpp live batching', () => {
  it('twoTurnsWaitingTogetherShareOneWindow: each gets its own transcript, on its own clock', async () => {
    const before = { ...stt.liveBatches };
    const busy = stt.transcribe(await wav('jlo_02_allume_la_lumiere'), live);
    const [b, c] = await Promise.all([
      stt.transcribe(await wav('jlo_09_allume_toutes_les_lumieres'), live),
      stt.transcribe(await wav('jlo_30_ouvre_tous_les_volets'), live),
      busy,
    ]);
    expect(stt.liveBatches.joint).toBe(before.joint + 1);
    expect(b.text).toMatch(/allume toutes les lumi/i);
    expect(c.text).toMatch(/ouvre tous les volets/i);
    expect(c.segments[0]!.startSec).toBeLessThan(1);
    expect(c.segments.at(-1)!.endSec).toBeLessThanOrEqual(c.timing.audioSec);
  });

  it('aTurnDroppedWhileWaitingLeavesTheOtherToRunAlone', async () => {
    const before = { ...stt.liveBatches };
    const busy = stt.transcribe(await wav('jlo_02_allume_la_lumiere'), live);
    const controller = new AbortController();
    const dropped = stt
      .transcribe(await wav('jlo_09_allume_toutes_les_lumieres'), { ...live, signal: controller.signal })
      .catch((e: unknown) => e as VoiceError);
    const kept = stt.transcribe(await wav('jlo_30_ouvre_tous_les_volets'), live);
    controller.abort();
    expect(((await dropped) as VoiceError).code).toBe('aborted');
    expect((await kept).text).toMatch(/ouvre tous les volets/i);
    await busy;
    expect(stt.liveBatches.joint).toBe(before.joint);
  });

  it('turns too long for one window each wait for their own', async () => {
    const before = { ...stt.liveBatches };
    const long = await wav('jlo_08_allume_toutes_les_lumieres_dans_le_rez_de_chaussee');
    const busy = stt.transcribe(await wav('jlo_02_allume_la_lumiere'), live);
    const [x, y] = await Promise.all([stt.transcribe(long, live), stt.transcribe(long, live), busy]);
    expect(stt.liveBatches.joint).toBe(before.joint);
    expect(x.text).toMatch(/allume toutes les lumi/i);
    expect(y.text).toMatch(/allume toutes les lumi/i);
  });
});
