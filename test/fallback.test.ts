import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, type ConfigInput } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { buildServer } from '../src/server.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { FakeLlm, FakeStt, type LlmScript } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { FaultPlan, faultyLlm } from '../src/testing/faults.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { TestUpstream } from './fallback-upstream.js';
import { listenForTest } from './helpers.js';

/**
 * The fallback's plumbing on scripted engines: a local instance and its upstream (a second
 * instance over wss with JWT keys, through a cable that can be cut). The upstream's LLM is told
 * apart by its answer, and its prompts show what was replayed. fallback.real.test.ts runs French
 * speech through the same paths on the real engines.
 */
const fast = {
  vad: { minSpeechMs: 64, minSilenceMs: 200, prefixPaddingMs: 100 },
  realtime: { maxMessagesPerSec: 100_000, sentenceCacheSize: 0 },
} satisfies ConfigInput;
/** What the upstream's LLM answers (a test may make it longer, or hang). */
let upstreamScript: LlmScript = { tokens: ['Réponse ', 'du ', 'secours.'] };
const upstreamLlm = new FakeLlm(() => upstreamScript);
let upstream: TestUpstream;
const apps: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  const runtime = await fakeRuntime({
    llm: upstreamLlm,
    stt: new FakeStt(() => ({ text: 'Quelle heure est-il ?' })),
  });
  upstream = await TestUpstream.start(runtime, fast);
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await upstream?.close();
});

/** A local instance with `overrides`, its engines `runtime` (undefined: still loading). */
let lastStore: SqliteStore;

async function local(overrides: ConfigInput, runtime: Runtime | undefined): Promise<string> {
  const config = loadConfig({ env: {}, overrides: { ...fast, ...overrides } });
  const { app, base, store } = await listenForTest(config, runtime);
  apps.push(app);
  lastStore = store;
  return `${base.replace('http', 'ws')}/v1/realtime`;
}

/** Loud tone (speech for the energy VAD), then silence: one turn. */
const turn = () => {
  const tone = new Float32Array(24000 * 0.4).map((_, i) => 0.25 * Math.sin(i / 3));
  return new Float32Array([...tone, ...new Float32Array(24000 * 0.4)]);
};

const backendOf = (e: Record<string, unknown>) => (e.session as { x_backend?: string }).x_backend;
const codeOf = (e: Record<string, unknown>) => (e.error as { code: string }).code;
const transcriptOf = (client: RealtimeTestClient) =>
  client
    .of('response.output_audio_transcript.done')
    .map((e) => e.transcript as string)
    .join(' | ');

describe('fallback to a Realtime upstream (scripted engines)', () => {
  it('overflow: beyond realtime.maxSessions a session is served upstream and answers a voice turn', async () => {
    const url = await local(
      { realtime: { maxSessions: 0 }, fallback: upstream.fallback(['overflow']) },
      await fakeRuntime(),
    );
    const client = await RealtimeTestClient.connect(url);
    const created = await client.waitFor('session.created', { timeoutMs: 10_000 });
    expect(backendOf(created)).toBe('openai');
    expect((created.session as { x_backend_reason: string }).x_backend_reason).toBe('overflow');
    await client.streamPcm(turn());
    const done = await client.waitFor('response.done', { timeoutMs: 10_000 });
    expect((done.response as { status: string }).status).toBe('completed');
    expect(client.of('conversation.item.input_audio_transcription.completed')[0]!.transcript).toBe(
      'Quelle heure est-il ?',
    );
    expect(transcriptOf(client)).toContain('secours');
    expect(client.of('response.output_audio.delta').length).toBeGreaterThan(0);
    expect(client.of('error')).toEqual([]);
    // The conversation is stored here with the tokens the upstream reported.
    const id = (created.session as { id: string }).id;
    const { usage } = done.response as { usage: { input_tokens: number; output_tokens: number } };
    expect(usage.output_tokens).toBeGreaterThan(0);
    await client.close();
    await vi.waitFor(async () =>
      expect(await lastStore.usage('anonymous', id)).toEqual({
        inputTokens: usage.input_tokens,
        outputTokens: usage.output_tokens,
      }),
    );
    expect((await lastStore.history('anonymous', id)).map((i) => i.text)).toEqual([
      'Quelle heure est-il ?',
      'Réponse du secours.',
    ]);
  });

  it('unready: a session that starts while the engines load is served upstream', async () => {
    const url = await local({ fallback: upstream.fallback(['unready']) }, undefined);
    const client = await RealtimeTestClient.connect(url);
    expect(backendOf(await client.waitFor('session.created', { timeoutMs: 10_000 }))).toBe('openai');
    await client.streamPcm(turn());
    expect(((await client.waitFor('response.done')).response as { status: string }).status).toBe('completed');
    await client.close();
  });

  it('failBack: a session that started upstream while the engines loaded comes back to them after an answer', async () => {
    let loaded: Runtime | undefined = undefined;
    const config = loadConfig({
      env: {},
      overrides: { ...fast, fallback: upstream.fallback(['unready'], { failBack: true }) },
    });
    const app = await buildServer({
      config,
      logger: silentLogger,
      runtime: () => loaded,
      store: new SqliteStore(':memory:'),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    apps.push(app);
    const client = await RealtimeTestClient.connect(
      `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/realtime`,
    );
    expect(backendOf(await client.waitFor('session.created', { timeoutMs: 10_000 }))).toBe('openai');
    loaded = await fakeRuntime({ llm: new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi.'] })) });
    await client.streamPcm(turn());
    await client.waitFor('response.done');
    const back = await client.waitFor('session.updated');
    expect(backendOf(back)).toBe('local');
    const types = client.events.map((e) => e.type);
    expect(types.indexOf('session.updated')).toBeGreaterThan(types.indexOf('response.done'));
    await client.streamPcm(turn());
    await client.waitFor('response.done', { n: 2 });
    expect(transcriptOf(client)).toBe('Réponse du secours. | Il est midi.');
    await client.close();
  });

  it('without a key, or with policy never, nothing falls back: the session is refused as before', async () => {
    const noKey = await local({ fallback: upstream.fallback(['unready'], { apiKey: '' }) }, undefined);
    const never = await local({ fallback: upstream.fallback(['never']) }, undefined);
    for (const url of [noKey, never]) {
      const client = await RealtimeTestClient.connect(url);
      expect(codeOf(await client.waitFor('error'))).toBe('engine_unavailable');
      await client.waitForClose();
      expect(client.closed?.code).toBe(1013);
    }
  });

  it('error: turn 1 is answered locally, the LLM fails at turn 2, and turn 2 is answered upstream with turn 1 in its context', async () => {
    const plan = new FaultPlan();
    const localLlm = new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi.'] }));
    const runtime = await fakeRuntime({ llm: faultyLlm(localLlm, plan) });
    const url = await local({ fallback: upstream.fallback(['error']) }, runtime);
    const client = await RealtimeTestClient.connect(url);
    expect(backendOf(await client.waitFor('session.created'))).toBe('local');
    await client.streamPcm(turn());
    await client.waitFor('response.done');
    expect(transcriptOf(client)).toContain('midi');
    plan.llm.push('throw');
    const before = upstreamLlm.calls.length;
    await client.streamPcm(turn());
    const updated = await client.waitFor('session.updated', { timeoutMs: 10_000 });
    expect(backendOf(updated)).toBe('openai');
    expect((updated.session as { x_backend_reason: string }).x_backend_reason).toBe('error');
    const second = await client.waitFor('response.done', {
      n: 3,
      timeoutMs: 10_000,
    });
    const statuses = client.of('response.done').map((e) => (e.response as { status: string }).status);
    expect(statuses).toEqual(['completed', 'failed', 'completed']);
    expect(second.response).toBeDefined();
    expect(transcriptOf(client)).toContain('secours');
    // The upstream was prompted with turn 1 (question and local answer) and turn 2.
    const prompt = upstreamLlm.calls[before]!.map((m) => `${m.role}: ${m.content}`);
    expect(prompt).toEqual(expect.arrayContaining(['user: Bonjour.', 'assistant: Il est midi.']));
    // What the upstream received: the session's settings, then the history under its ids, then response.create.
    const sent = upstream.received.slice(upstream.received.findLastIndex((e) => e.type === 'session.update'));
    const items = sent
      .filter((e) => e.type === 'conversation.item.create')
      .map((e) => e.item as { role: string; content: { text?: string }[] })
      .map((i) => `${i.role}: ${i.content[0]!.text}`);
    expect(items).toEqual(['user: Bonjour.', 'assistant: Il est midi.', 'user: Bonjour.']);
    const types = sent.map((e) => e.type);
    expect(types.indexOf('response.create')).toBeGreaterThan(types.lastIndexOf('conversation.item.create'));
    expect(client.of('error')).toEqual([]);
    // The next turn is served upstream too, in the same socket.
    await client.streamPcm(turn());
    await client.waitFor('response.done', { n: 4, timeoutMs: 10_000 });
    expect(client.closed).toBeUndefined();
    await client.close();
  });
});

describe('upstream faults: one coded error each, no wedged session', () => {
  it('a refused key (401) gives fallback_auth_failed; with no local engine to go on, the session is closed (1013)', async () => {
    const url = await local(
      { fallback: upstream.fallback(['unready'], { apiKey: 'not-the-key' }) },
      undefined,
    );
    const client = await RealtimeTestClient.connect(url);
    await client.waitForClose();
    expect(client.of('error').map(codeOf)).toEqual(['fallback_auth_failed']);
    expect(client.closed?.code).toBe(1013);
    expect(JSON.stringify(client.events)).not.toContain('not-the-key');
  });

  it('an unreachable upstream: the failed turn gets fallback_unavailable and the session goes on locally', async () => {
    const plan = new FaultPlan();
    const runtime = await fakeRuntime({
      llm: faultyLlm(new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi.'] })), plan),
    });
    const url = await local(
      { fallback: upstream.fallback(['error'], { url: 'wss://127.0.0.1:9/v1/realtime' }) },
      runtime,
    );
    const client = await RealtimeTestClient.connect(url);
    await client.waitFor('session.created');
    plan.llm.push('throw');
    await client.streamPcm(turn());
    const error = await client.waitFor('error', { timeoutMs: 10_000 });
    expect(codeOf(error)).toBe('fallback_unavailable');
    expect((error.error as { message: string }).message).toMatch(/local engines/);
    expect(backendOf(await client.waitFor('session.updated'))).toBe('local');
    await client.streamPcm(turn());
    await client.waitFor('response.done', { n: 2 });
    expect(client.of('response.done').map((e) => (e.response as { status: string }).status)).toEqual([
      'failed',
      'completed',
    ]);
    expect(client.of('error')).toHaveLength(1);
    expect(transcriptOf(client)).toContain('midi');
    await client.close();
  });

  it('an upstream that closes mid-response: the response ends failed, one fallback_failed, the session goes on locally with what was heard', async () => {
    upstreamScript = { tokens: Array.from({ length: 12 }, (_, i) => `Phrase numéro ${i + 1} du secours. `) };
    try {
      const runtime = await fakeRuntime({ llm: new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi.'] })) });
      const url = await local({ fallback: upstream.fallback(['always']) }, runtime);
      const client = await RealtimeTestClient.connect(url);
      expect(backendOf(await client.waitFor('session.created', { timeoutMs: 10_000 }))).toBe('openai');
      await client.streamPcm(turn());
      await client.waitFor('response.output_audio.delta', { n: 3 });
      upstream.cable.cut();
      const done = await client.waitFor('response.done', { timeoutMs: 10_000 });
      expect(done.response).toMatchObject({
        status: 'failed',
        status_details: { error: { code: 'fallback_failed' } },
      });
      expect(client.of('error').map(codeOf)).toEqual(['fallback_failed']);
      expect(backendOf(await client.waitFor('session.updated'))).toBe('local');
      await client.streamPcm(turn());
      await client.waitFor('response.done', { n: 2, timeoutMs: 10_000 });
      expect(transcriptOf(client)).toContain('midi');
      expect(client.closed).toBeUndefined();
      await client.close();
    } finally {
      upstreamScript = { tokens: ['Réponse ', 'du ', 'secours.'] };
    }
  });

  it('upstreamSilentMidResponseIsGivenUp: an upstream response that sends nothing for responseTimeoutMs ends failed with fallback_failed', async () => {
    let release!: () => void;
    upstreamScript = {
      tokens: ['Un ', 'instant'],
      hangAfter: 1,
      hangUntil: new Promise<void>((r) => (release = r)),
    };
    try {
      const runtime = await fakeRuntime();
      const url = await local(
        { fallback: upstream.fallback(['always'], { responseTimeoutMs: 500 }) },
        runtime,
      );
      const client = await RealtimeTestClient.connect(url);
      await client.waitFor('session.created', { timeoutMs: 10_000 });
      await client.streamPcm(turn());
      const done = await client.waitFor('response.done', { timeoutMs: 10_000 });
      expect((done.response as { status: string }).status).toBe('failed');
      expect(client.of('error').map(codeOf)).toEqual(['fallback_failed']);
      expect(backendOf(await client.waitFor('session.updated'))).toBe('local');
      await client.close();
    } finally {
      release();
      upstreamScript = { tokens: ['Réponse ', 'du ', 'secours.'] };
    }
  });

  it("an upstream error event reaches the client once, with the upstream's code; the session stays up", async () => {
    const url = await local(
      { realtime: { maxSessions: 0 }, fallback: upstream.fallback(['overflow']) },
      await fakeRuntime(),
    );
    const client = await RealtimeTestClient.connect(url);
    await client.waitFor('session.created', { timeoutMs: 10_000 });
    client.send({ type: 'conversation.item.delete', event_id: 'evt_1', item_id: 'item_missing' });
    const error = await client.waitFor('error');
    expect(error.error).toMatchObject({ code: 'item_not_found', event_id: 'evt_1' });
    await client.streamPcm(turn());
    await client.waitFor('response.done', { timeoutMs: 10_000 });
    expect(client.of('error')).toHaveLength(1);
    await client.close();
  });
});

describe('what the fallback shows of itself', () => {
  it('logs at info say when and why a session moved, never the key or what was said; /metrics counts it without the key', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const plan = new FaultPlan();
    const runtime = await fakeRuntime({
      llm: faultyLlm(new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi.'] })), plan),
    });
    const config = loadConfig({ env: {}, overrides: { ...fast, fallback: upstream.fallback(['error']) } });
    const app = await buildServer({
      config,
      logger,
      runtime: () => runtime,
      store: new SqliteStore(':memory:'),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    apps.push(app);
    const base = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const client = await RealtimeTestClient.connect(`ws://${base}/v1/realtime`);
    await client.waitFor('session.created');
    plan.llm.push('throw');
    await client.streamPcm(turn());
    await client.waitFor('response.done', { n: 2, timeoutMs: 10_000 });
    await client.close();
    const log = lines.join('');
    expect(log).toContain('session served by the fallback upstream');
    expect(log).toContain('"reason":"error"');
    for (const secret of [upstream.key, 'Bonjour', 'secours', 'midi'])
      expect(log, secret).not.toContain(secret);
    const metrics = await (await fetch(`http://${base}/metrics`)).text();
    expect(metrics).toContain('voice_fallback_sessions_total{reason="error"} 1');
    expect(metrics).toMatch(/voice_fallback_turns_total\{status="completed"\} 1/);
    expect(metrics).not.toContain(upstream.key);
  });
});
