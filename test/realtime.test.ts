import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32ToInt16 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { readWav } from '../src/audio/wav.js';
import { loadConfig, type Config } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { buildServer } from '../src/server.js';
import { loadRuntime, type Runtime } from '../src/runtime/runtime.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { MODELS_DIR, requireSharedAssets, selfSignedCert, TESTAUDIO_DIR } from './helpers.js';

/** Real engines end to end: Silero, whisper.cpp, the embedded llama.cpp, espeak-ng French. */
const clip = (name: string) => join(TESTAUDIO_DIR, 'fr/s2p_jlo', name);
let runtime: Runtime;
let config: Config;
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;
const tmp = mkdtempSync(join(tmpdir(), 'voice-rt-'));

beforeAll(async () => {
  requireSharedAssets();
  // Whisper base hears "Quelle heure est-il ?" in jlo_33 only with beam search over the full 30 s
  // encoder window (the default 750 writes "Qu'elle est-il ?"): these tests use that setting.
  config = loadConfig({
    env: { MODELS_DIR },
    overrides: {
      server: { port: 0 },
      llm: { engine: 'llamacpp' },
      stt: { audioCtx: 'full', liveAudioCtx: 'full', liveBeamSize: 5 },
      turns: { partialIntervalMs: 300 },
    },
  });
  runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
  app = await buildServer({
    config,
    logger: silentLogger,
    runtime: () => runtime,
    store: new SqliteStore(':memory:'),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app?.close();
  await runtime?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Done = {
  response: {
    id: string;
    status: string;
    output: { id: string }[];
    x_timings: { marks: Record<string, number> };
  };
};

describe('real-time sessions on real engines', () => {
  it('a French question streamed at real-time pace gets speech events, its transcription, audio, then response.done', async () => {
    const client = await RealtimeTestClient.connect(`${url}/v1/realtime`);
    const created = await client.waitFor('session.created');
    // Smart Turn is loaded from the shared models: voice sessions default to semantic_vad.
    expect(
      (created.session as { audio: { input: { turn_detection: { type: string } } } }).audio.input
        .turn_detection.type,
    ).toBe('semantic_vad');
    client.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 60 } });
    await client.streamWav(clip('jlo_33_quelle_heure_est_il.wav'));
    const done = (await client.waitFor('response.done', { timeoutMs: 90_000 })) as unknown as Done;
    const types = client.events.map((e) => e.type);
    for (const t of [
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'response.output_audio.delta',
    ])
      expect(types, t).toContain(t);
    const transcript = client.of('conversation.item.input_audio_transcription.completed')[0]!
      .transcript as string;
    expect(transcript.toLowerCase()).toContain('heure');
    expect(types.lastIndexOf('response.output_audio.delta')).toBeLessThan(types.indexOf('response.done'));
    expect(done.response.status).toBe('completed');
    const marks = done.response.x_timings.marks;
    for (const m of [
      'stt_done',
      'first_llm_token',
      'first_tts_chunk',
      'first_audio_sent',
      'first_answer_audio_sent',
    ])
      expect(marks[m], m).toBeGreaterThan(0);
    console.log(`real turn timings (ms after speech stopped): ${JSON.stringify(marks)}`);
    await client.close();
  });

  it('partial transcripts: a longer French sentence gets deltas from its drafts that add up to the final transcript', async () => {
    const client = await RealtimeTestClient.connect(`${url}/v1/realtime`);
    await client.waitFor('session.created');
    client.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 20 } });
    // Half of real-time pace: drafts come at the same points of the audio (every
    // turns.partialIntervalMs of it), and each has more time to finish before the next.
    await client.streamWav(clip('jlo_34_regle_la_luminosite_dans_le_bureau_a_50.wav'), 1000, undefined, 0.5);
    await client.waitFor('response.done', { timeoutMs: 90_000 });
    const itemId = client.of('input_audio_buffer.committed')[0]!.item_id;
    const deltas = client.of('conversation.item.input_audio_transcription.delta');
    const stopped = client.of('input_audio_buffer.speech_stopped')[0]!;
    expect(deltas.every((d) => d.item_id === itemId)).toBe(true);
    // Whether two drafts agree before the speaker stops depends on the machine's speed and load (on
    // a 2-core Xeon they did in 3 runs of 3 alone, and in none of 3 full CI runs): a timing, so it is
    // measured by bench:turns ("first partial after speech start"), not asserted here.
    const early = deltas.filter((d) => d.at < stopped.at).length;
    expect(deltas.length).toBeGreaterThan(0);
    const transcript = client.of('conversation.item.input_audio_transcription.completed')[0]!
      .transcript as string;
    expect(deltas.map((d) => d.delta as string).join('')).toBe(transcript);
    // The end of the sentence is heard; its start may keep misheard draft words ("un sac le…" for
    // "règle la luminosité"): the known defect that keeps partials off by default (README).
    expect(transcript.toLowerCase()).toMatch(/le bureau/);
    console.log(
      `partials: ${JSON.stringify(deltas.map((d) => d.delta))}, ${early} before speech_stopped, first ${Math.round(deltas[0]!.at - client.sentAt(client.of('input_audio_buffer.speech_started')[0]!.audio_start_ms as number))} ms after speech start (at half pace)`,
    );
    await client.close();
  });

  it('barge-in: a second utterance while the answer streams cancels it, keeps what was sent, and is answered', async () => {
    const client = await RealtimeTestClient.connect(`${url}/ws/chat`);
    client.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'Tu es un assistant. Réponds toujours en au moins quatre longues phrases.',
        // Half-speed speech: even a one-sentence answer still plays when the interruption is heard.
        audio: { output: { speed: 0.5 } },
      },
    });
    await client.waitFor('session.updated');
    await client.streamWav(clip('jlo_33_quelle_heure_est_il.wav'));
    const firstAnswer = await client.waitFor('response.output_audio_transcript.delta', { timeoutMs: 90_000 });
    await client.streamWav(clip('jlo_32_quel_temps_fait_il.wav'));
    const first = (await client.waitFor('response.done', { timeoutMs: 90_000 })) as unknown as Done;
    const answer = client
      .of('response.output_audio_transcript.delta')
      .filter((e) => e.item_id === firstAnswer.item_id)
      .map((e) => e.delta as string)
      .join('');
    expect(first.response.status, `the answer ended before the interruption: "${answer}"`).toBe('cancelled');
    const second = (await client.waitFor('response.done', { n: 2, timeoutMs: 90_000 })) as unknown as Done;
    expect(second.response.status).toBe('completed');
    // The cancelled answer keeps at most what was sent, as the user heard it.
    const itemId = firstAnswer.item_id as string;
    const sentText = client
      .of('response.output_audio_transcript.delta')
      .filter((e) => e.item_id === itemId)
      .map((e) => e.delta as string)
      .join('');
    const sentMs =
      (client
        .of('response.output_audio.delta')
        .filter((e) => e.item_id === itemId)
        .reduce((n, e) => n + Buffer.from(e.delta as string, 'base64').length, 0) /
        48000) *
      1000;
    client.send({ type: 'conversation.item.retrieve', item_id: itemId });
    const item = (await client.waitFor('conversation.item.retrieved')).item as {
      status: string;
      content: { transcript: string }[];
    };
    expect(item.status).toBe('incomplete');
    const kept = item.content[0]!.transcript.replace(/…$/, '');
    expect(sentText.startsWith(kept.split('…')[0]!.trim())).toBe(true);
    expect(kept.length).toBeLessThanOrEqual(sentText.length);
    // Truncating beyond the audio sent is refused; within it is honoured.
    client.send({
      type: 'conversation.item.truncate',
      item_id: itemId,
      content_index: 0,
      audio_end_ms: Math.round(sentMs) + 5000,
    });
    expect(((await client.waitFor('error')).error as { code: string }).code).toBe('item_not_truncatable');
    await client.close();
  });

  it('the official openai client (openai/realtime/ws, over TLS) connects, sends audio and receives a spoken answer', async () => {
    const { cert, key } = selfSignedCert(tmp);
    const tlsConfig = { ...config, server: { ...config.server, tlsCert: cert, tlsKey: key } };
    const tls = await buildServer({
      config: tlsConfig,
      logger: silentLogger,
      runtime: () => runtime,
      store: new SqliteStore(':memory:'),
    });
    await tls.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (tls.server.address() as { port: number }).port;
      const openai = new OpenAI({ apiKey: 'local-no-key', baseURL: `https://127.0.0.1:${port}/v1` });
      const rt = new OpenAIRealtimeWS({ model: 'local', options: { ca: readFileSync(cert) } }, openai);
      const audio: Buffer[] = [];
      const statuses: string[] = [];
      const errors: unknown[] = [];
      rt.on('error', (e) => errors.push(e));
      rt.on('response.output_audio.delta', (e) => audio.push(Buffer.from(e.delta, 'base64')));
      const done = new Promise<void>((resolve) =>
        rt.on('response.done', (e) => {
          statuses.push(e.response.status ?? '');
          resolve();
        }),
      );
      await new Promise<void>((resolve, reject) => {
        rt.socket.once('open', () => resolve());
        rt.socket.once('error', reject);
      });
      const turnDetection: string[] = [];
      rt.on('session.updated', (e) => turnDetection.push(e.session.audio?.input?.turn_detection?.type ?? ''));
      // A voice turn as a microphone client sends it: semantic_vad, 20 ms frames at real-time pace.
      rt.send({
        type: 'session.update',
        session: {
          type: 'realtime',
          output_modalities: ['audio'],
          max_output_tokens: 40,
          audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'auto' } } },
        },
      });
      const wav = await readWav(clip('jlo_33_quelle_heure_est_il.wav'));
      const speech = resample(wav.samples, wav.sampleRate, 24000);
      const samples = new Float32Array(speech.length + 24000 * 2);
      samples.set(speech);
      const started = performance.now();
      for (let i = 0, n = 0; i < samples.length; i += 480, n++) {
        const pcm = float32ToInt16(samples.subarray(i, i + 480));
        rt.send({ type: 'input_audio_buffer.append', audio: Buffer.from(pcm.buffer).toString('base64') });
        const wait = started + (n + 1) * 20 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await done;
      rt.close();
      expect(errors).toEqual([]);
      expect(turnDetection).toEqual(['semantic_vad']);
      expect(statuses).toEqual(['completed']);
      expect(audio.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(24000 * 2 * 0.5); // > 0.5 s of speech
    } finally {
      await tls.close();
    }
  });
});
