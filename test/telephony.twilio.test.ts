import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import { VadSegmenter } from '../src/engines/vad/segmenter.js';
import { loadConfig, type Config } from '../src/config.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime, type Runtime } from '../src/runtime/runtime.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { MetaRecordingStore } from '../src/testing/meta-store.js';
import { twilioSignature } from '../src/telephony/twilio-signature.js';
import { phoneAudio, TwilioTestClient } from '../src/testing/twilio-client.js';
import { MODELS_DIR, requireSharedAssets, TESTAUDIO_DIR } from './helpers.js';

/**
 * A phone call on the real engines, Twilio's side played by a client written from Twilio's
 * Media Streams documentation: real French speech at 8 kHz μ-law in 20 ms `media` messages at
 * real-time pace, an answer back as μ-law with marks, and a second utterance over the answer.
 */
const clip = (name: string) => join(TESTAUDIO_DIR, 'fr/s2p_jlo', name);
const TOKEN = 'twilio-test-auth-token';
const ACCOUNT = 'AC00000000000000000000000000000002';
let runtime: Runtime;
let config: Config;
let app: Awaited<ReturnType<typeof listenOnLoopback>>['app'];
let base: string;
const logLines: string[] = [];
const store = new MetaRecordingStore();

beforeAll(async () => {
  requireSharedAssets();
  config = loadConfig({
    env: { MODELS_DIR },
    overrides: {
      server: { port: 0 },
      llm: { engine: 'llamacpp' },
      // Whisper base hears "Quelle heure est-il ?" only with beam search over the full window (as
      // in realtime.test.ts); narrowband audio needs it no less.
      stt: { audioCtx: 'full', liveAudioCtx: 'full', liveBeamSize: 5 },
      // No filler: the first audio of the call is the answer, so the barge-in lands in it. Marks
      // every 200 ms: the first one plays soon, and the barge-in follows it.
      realtime: { fillers: false },
      telephony: { twilioAuthToken: TOKEN, markIntervalMs: 200 },
      // Speech confirmed 100 ms after its onset: the barge-in lands while the answer still plays,
      // however short the LLM makes it (the onset of jlo_39 dips once, which delays it by 128 ms).
      vad: { minSpeechMs: 100 },
    },
  });
  runtime = await loadRuntime(
    config,
    new ModelManager({ modelsDir: config.models.dir }),
    pino({ level: 'silent' }),
  );
  let url: string;
  ({ app, base: url } = await listenOnLoopback(config, runtime, undefined, {
    store,
    logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }),
  }));
  base = url.replace('http://', '');
});
afterAll(async () => {
  await app?.close();
  await runtime?.close();
});

/**
 * Milliseconds into a recording where speech starts: the first 32 ms frame Silero scores as speech
 * on the original wideband file (not on the phone path being tested).
 */
async function speechOnsetMs(path: string): Promise<number> {
  const wav = await readWav(path);
  const segmenter = new VadSegmenter(
    runtime.engines.vad,
    { threshold: config.vad.threshold, minSpeechMs: 0, minSilenceMs: 500, prefixPaddingMs: 0 },
    wav.sampleRate,
  );
  const start = (await segmenter.push(wav.samples)).find((e) => e.type === 'speech_start');
  return start ? (start.startSample * 1000) / wav.sampleRate : NaN;
}

const logged = (msg: string) =>
  logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

afterAll(() => {
  if (!process.env.DEBUG_CALL) return;
  for (const l of logLines) {
    const r = JSON.parse(l) as Record<string, unknown>;
    console.log(
      r.time,
      r.msg,
      JSON.stringify({ ...r, time: undefined, msg: undefined, level: undefined }).slice(0, 300),
    );
  }
});

describe('a Twilio call on the real engines', () => {
  it('French speech at 8 kHz is answered in μ-law with marks; talking over the answer clears it, and history keeps what was heard', async () => {
    const url = `ws://${base}/v1/telephony/twilio`;
    const client = await TwilioTestClient.connect(
      url,
      {
        accountSid: ACCOUNT,
        callSid: 'CA00000000000000000000000000000021',
        streamSid: 'MZ00000000000000000000000000000021',
        customParameters: { From: '+33100000001', To: '+33100000002' },
      },
      { 'x-twilio-signature': twilioSignature(TOKEN, url) },
    );
    // The second utterance, ready beforehand: jlo_39 from 200 ms before its speech, so that its
    // voice onset lands in the answer however short the answer is.
    const secondPath = clip('jlo_39_eteins_la_lumiere.wav');
    const speechMs = await speechOnsetMs(secondPath);
    const leadMs = Math.min(200, speechMs);
    const second = (await phoneAudio(secondPath, 1200)).subarray(Math.round((speechMs - leadMs) * 8));
    const onsetMs = leadMs;

    client.start();
    await client.streamWav(clip('jlo_33_quelle_heure_est_il.wav'), 1200);
    // The answer plays: wait until the client has played it up to its first mark.
    await client.until(() => client.echoed.some((m) => m.played), 'a mark played', 90_000);
    expect(client.of('media').length).toBeGreaterThan(0);

    // The second utterance, over the answer.
    const sentAt = performance.now();
    if (process.env.DEBUG_CALL)
      console.log('second utterance', { played: client.playedBytes / 8, received: client.receivedBytes / 8 });
    const streaming = client.streamMulaw(second);
    await client.until(
      () => client.of('clear').length > 0,
      `clear (answer audio: ${client.receivedBytes / 8} ms received, ${client.playedBytes / 8} ms played when the utterance began)`,
      10_000,
    );
    const clearAt = client.of('clear')[0]!.at;
    const clearMs = clearAt - (sentAt + onsetMs);
    // The marks the client played before the clear; the ones the clear dropped are echoed too.
    const played = client.echoed.filter((m) => m.played && m.at < clearAt);
    const [itemId] = played.at(-1)!.name.split(':');
    await streaming;
    await client.until(
      () => logged('answer truncated to what the caller heard').length > 0,
      'the truncation',
      30_000,
    );
    client.stop();
    await client.until(() => client.closed !== undefined, 'the end of the call', 10_000);
    const truncated = logged('answer truncated to what the caller heard')[0]! as {
      item: string;
      audioEndMs: number;
    };
    console.log(
      `phone call: clear ${clearMs.toFixed(0)} ms after the second utterance's speech began (Silero's ` +
        `first speech frame on the original, ±32 ms); answer heard to ${truncated.audioEndMs} ms of ` +
        `${(client.receivedBytes / 8).toFixed(0)} ms received`,
    );

    // Cleared at the voice onset: after the utterance began, before the VAD could confirm speech.
    expect(clearAt).toBeGreaterThan(sentAt);
    expect(clearMs).toBeLessThan(config.vad.minSpeechMs);
    // Truncated at a mark the client played, not at what was sent: the last one before the clear,
    // or the one before it when the last one's echo crossed the clear on the wire (the server then
    // counts it as unheard: history may fall one mark short, never long).
    expect(truncated.item).toBe(itemId);
    expect(played.slice(-2).map((m) => Number(m.name.split(':')[1]))).toContain(truncated.audioEndMs);
    expect(truncated.audioEndMs).toBeLessThan(client.receivedBytes / 8);

    await new Promise((r) => setTimeout(r, 100));
    const saved = store.metas.find((m) => m.meta.callSid === client.call.callSid)!;
    expect(saved.meta).toMatchObject({ from: '+33100000001', to: '+33100000002' });
    const items = await store.history(saved.owner, saved.sessionId);
    expect(items[0]!.role).toBe('user');
    expect(items[0]!.text.toLowerCase()).toContain('heure');
    const answer = items.find((i) => i.id === itemId)!;
    expect(answer.role).toBe('assistant');
    // Nothing said in the call reached the log at info.
    const info = logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 30).join('');
    for (const word of ['heure', 'lumière', answer.text.split(' ')[0] ?? 'x'].filter((w) => w.length > 3))
      expect(info, word).not.toContain(word);
  });
});
