import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime, type Runtime } from '../src/runtime/runtime.js';
import { FaultPlan, faultyLlm } from '../src/testing/faults.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { TestUpstream } from './fallback-upstream.js';
import { listenForTest, MODELS_DIR, requireSharedAssets, TESTAUDIO_DIR } from './helpers.js';

/**
 * French speech through each fallback path on the real engines (Silero, whisper.cpp, the embedded
 * llama.cpp, espeak-ng French): the upstream is a second instance on the same engines, over wss
 * with a JWT key it checks. Each case: transcript, answer audio, response.done completed.
 */
const clip = (name: string) => join(TESTAUDIO_DIR, 'fr/s2p_jlo', name);
const engines = {
  llm: { engine: 'llamacpp' },
  // As in realtime.test.ts: whisper base hears jlo_33 right with the full encoder window and beams.
  stt: { audioCtx: 'full', liveAudioCtx: 'full', liveBeamSize: 5 },
  realtime: { maxSessions: 4 },
} satisfies ConfigInput;
let runtime: Runtime;
let upstream: TestUpstream;
const apps: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  requireSharedAssets();
  const config = loadConfig({ env: { MODELS_DIR }, overrides: engines });
  runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
  upstream = await TestUpstream.start(runtime, { ...engines, models: { dir: MODELS_DIR } });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await upstream?.close();
  await runtime?.close();
});

async function local(overrides: ConfigInput, engines_: Runtime | undefined): Promise<RealtimeTestClient> {
  const config = loadConfig({ env: { MODELS_DIR }, overrides: { ...engines, ...overrides } });
  const { app, base } = await listenForTest(config, engines_);
  apps.push(app);
  const client = await RealtimeTestClient.connect(`${base.replace('http', 'ws')}/v1/realtime`);
  client.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 40 } });
  return client;
}

const backendOf = (e: Record<string, unknown>) => (e.session as { x_backend?: string }).x_backend;

/** One French turn streamed at real-time pace: its transcript, and checks that it was answered aloud. */
async function frenchTurn(client: RealtimeTestClient, name: string, n: number): Promise<string> {
  const audioBefore = client.of('response.output_audio.delta').length;
  await client.streamWav(clip(name));
  const done = await client.waitFor('response.done', { n, timeoutMs: 90_000 });
  expect((done.response as { status: string }).status).toBe('completed');
  expect(client.of('response.output_audio.delta').length).toBeGreaterThan(audioBefore);
  const transcript = client.of('conversation.item.input_audio_transcription.completed')[n - 1]!;
  return (transcript.transcript as string).toLowerCase();
}

describe('fallback on the real engines, French speech', () => {
  it('unready: the engines are loading, the turn is heard and answered upstream', async () => {
    const client = await local({ fallback: upstream.fallback(['unready']) }, undefined);
    expect(backendOf(await client.waitFor('session.created', { timeoutMs: 10_000 }))).toBe('openai');
    // The client's session.update is answered by the one session it sees, naming its backend.
    expect(backendOf(await client.waitFor('session.updated'))).toBe('openai');
    expect(await frenchTurn(client, 'jlo_33_quelle_heure_est_il.wav', 1)).toContain('heure');
    expect(client.of('error')).toEqual([]);
    await client.close();
  });

  it('overflow: beyond realtime.maxSessions the turn is heard and answered upstream', async () => {
    const client = await local(
      { realtime: { maxSessions: 0 }, fallback: upstream.fallback(['overflow']) },
      runtime,
    );
    expect(backendOf(await client.waitFor('session.created', { timeoutMs: 10_000 }))).toBe('openai');
    expect(await frenchTurn(client, 'jlo_02_allume_la_lumiere.wav', 1)).toContain('lumière');
    expect(client.of('error')).toEqual([]);
    await client.close();
  });

  it('error: turn 1 local, the LLM fails at turn 2, turn 2 is answered upstream with turn 1 replayed', async () => {
    const plan = new FaultPlan();
    const faulty: Runtime = {
      ...runtime,
      engines: { ...runtime.engines, llm: faultyLlm(runtime.engines.llm, plan) },
    };
    const client = await local({ fallback: upstream.fallback(['error']) }, faulty);
    expect(backendOf(await client.waitFor('session.created'))).toBe('local');
    const first = await frenchTurn(client, 'jlo_02_allume_la_lumiere.wav', 1);
    expect(first).toContain('lumière');
    const answer1 = client.of('response.output_audio_transcript.done')[0]!.transcript as string;
    plan.llm.push('throw');
    const start = upstream.received.length;
    await client.streamWav(clip('jlo_33_quelle_heure_est_il.wav'));
    expect(backendOf(await client.waitFor('session.updated', { n: 2, timeoutMs: 90_000 }))).toBe('openai');
    const done = await client.waitFor('response.done', { n: 3, timeoutMs: 90_000 });
    expect((done.response as { status: string }).status).toBe('completed');
    expect(client.of('response.done').map((e) => (e.response as { status: string }).status)).toEqual([
      'completed',
      'failed',
      'completed',
    ]);
    const replayed = upstream.received
      .slice(start)
      .filter((e) => e.type === 'conversation.item.create')
      .map((e) => e.item as { role: string; content: { text?: string }[] });
    expect(replayed.map((i) => i.role)).toEqual(['user', 'assistant', 'user']);
    expect(replayed[0]!.content[0]!.text!.toLowerCase()).toContain('lumière');
    expect(replayed[1]!.content[0]!.text).toBe(answer1);
    expect(replayed[2]!.content[0]!.text!.toLowerCase()).toContain('heure');
    expect(client.of('response.output_audio.delta').length).toBeGreaterThan(0);
    expect(client.of('error')).toEqual([]);
    await client.close();
  });
});
