import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../src/config.js';
import type { TtsEngine } from '../src/engines/tts/types.js';
import { OpenAiLlm } from '../src/engines/llm/openai.js';
import { silentLogger } from '../src/log.js';
import type { Runtime } from '../src/runtime/runtime.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { FakeLlm, FakeTts } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { FaultPlan, faultyTts } from '../src/testing/faults.js';
import { TestUpstream } from './fallback-upstream.js';
import { listenForTest } from './helpers.js';

/**
 * `/chat` and `/her/chat` falling back to an OpenAI-compatible upstream: a second instance of this
 * service (its `/v1/chat/completions` and `/v1/audio/speech`, JWT keys checked), told apart by its
 * answer. Local failures come from configuration (an OpenAI-compatible LLM on a closed port) or
 * the fault-injection wrapper.
 */
const upstreamLlm = new FakeLlm(() => ({ tokens: ['Réponse ', 'du ', 'secours.'] }));
let upstream: TestUpstream;
const apps: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  const runtime = await fakeRuntime({ llm: upstreamLlm });
  upstream = await TestUpstream.start(runtime, {}, false);
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await upstream?.close();
});

let lastStore: SqliteStore;

async function local(overrides: ConfigInput, runtime: Runtime | undefined): Promise<string> {
  const { app, base, store } = await listenForTest(loadConfig({ env: {}, overrides }), runtime);
  apps.push(app);
  lastStore = store;
  return base;
}

const post = (base: string, path: string, body: object) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The NDJSON events of a /her/chat answer. */
async function herChat(base: string, message: string) {
  const res = await post(base, '/her/chat', { message });
  expect(res.status).toBe(200);
  return (await res.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; [k: string]: unknown });
}

/** An OpenAI-compatible LLM on a port nobody listens on: every answer fails at once. */
const deadLlm = () =>
  OpenAiLlm.create({
    baseUrl: 'http://127.0.0.1:9/v1',
    model: 'none',
    apiKey: '',
    maxTokens: 64,
    temperature: 0.7,
    timeoutMs: 2000,
    logger: silentLogger,
  });

describe('/chat and /her/chat fall back to an OpenAI-compatible upstream', () => {
  it('unready: /chat is answered upstream while the engines load, and says so', async () => {
    const base = await local({ fallback: upstream.chatFallback(['unready']) }, undefined);
    const res = await post(base, '/chat', { message: 'Quelle heure est-il ?' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      text: string;
      backend: string;
      backend_reason: string;
      session_id: string;
    };
    expect(body).toMatchObject({ text: 'Réponse du secours.', backend: 'openai', backend_reason: 'unready' });
    // The conversation is stored here, as any other: it goes on with its history.
    const again = await post(base, '/chat', { message: 'Et demain ?', session_id: body.session_id });
    expect(again.status).toBe(200);
    const prompt = upstreamLlm.calls.at(-1)!.map((m) => `${m.role}: ${m.content}`);
    // The tokens the upstream reported (its usage chunk) are stored with the conversation.
    const usage = await lastStore.usage('anonymous', body.session_id);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBe(6);
    expect(prompt.slice(-3)).toEqual([
      'user: Quelle heure est-il ?',
      'assistant: Réponse du secours.',
      'user: Et demain ?',
    ]);
  });

  it('unready: /her/chat streams the upstream answer with the upstream voice (24 kHz)', async () => {
    const base = await local({ fallback: upstream.chatFallback(['unready']) }, undefined);
    const events = await herChat(base, 'Bonjour');
    const audio = events.filter((e) => e.type === 'audio');
    expect(audio.length).toBeGreaterThan(0);
    expect(audio.every((e) => e.sample_rate === 24000)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', text: 'Réponse du secours.', backend: 'openai' });
  });

  it('error: a local LLM that cannot be reached is answered upstream, on /chat and on /her/chat', async () => {
    const runtime = await fakeRuntime({ llm: deadLlm() });
    const base = await local({ fallback: upstream.chatFallback(['error']) }, runtime);
    const res = await post(base, '/chat', { message: 'Allume la lumière.' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      text: 'Réponse du secours.',
      backend: 'openai',
      backend_reason: 'error',
    });
    const events = await herChat(base, 'Allume la lumière.');
    expect(events.at(-1)).toMatchObject({ type: 'done', backend: 'openai', backend_reason: 'error' });
    // The local voice still speaks the upstream's words.
    expect(events.filter((e) => e.type === 'audio').length).toBeGreaterThan(0);
  });

  it('error: when the local voice fails, the local answer is spoken by the upstream voice', async () => {
    const plan = new FaultPlan();
    const voice = faultyTts(new FakeTts(), plan);
    const runtime = await fakeRuntime({
      llm: new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi. ', 'Bonne ', 'journée.'] })),
      voices: new Map<string, TtsEngine>([['fake', voice]]),
    });
    const base = await local(
      { fallback: upstream.chatFallback(['error']), realtime: { sentenceCacheSize: 0 } },
      runtime,
    );
    plan.tts.push('throw');
    const events = await herChat(base, 'Quelle heure est-il ?');
    const audio = events.filter((e) => e.type === 'audio');
    expect(audio.map((e) => e.text)).toEqual(['Il est midi.', 'Bonne journée.']);
    expect(audio.every((e) => e.sample_rate === 24000)).toBe(true);
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      text: 'Il est midi. Bonne journée.',
      backend: 'openai',
    });
  });

  it('without the policy, the local failure stands; a refused key gives fallback_auth_failed', async () => {
    const runtime = await fakeRuntime({ llm: deadLlm() });
    const none = await local({ fallback: upstream.chatFallback(['unready']) }, runtime);
    const failed = await post(none, '/chat', { message: 'Bonjour' });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('engine_failed');
    const badKey = await local(
      { fallback: upstream.chatFallback(['unready'], { apiKey: 'wrong' }) },
      undefined,
    );
    const refused = await post(badKey, '/chat', { message: 'Bonjour' });
    expect(refused.status).toBe(502);
    const body = JSON.stringify(await refused.json());
    expect(body).toContain('fallback_auth_failed');
    expect(body).not.toContain(upstream.key);
  });

  it('overflow: a /chat beyond the local queue is answered upstream instead of 503', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = new FakeLlm(() => ({ tokens: ['Lent.', ' Très lent.'], hangAfter: 1, hangUntil: held }));
    slow.serial = true;
    const queue = { engines: { maxQueuedHttpJobs: 1 } };
    const runtime = await fakeRuntime({ llm: slow }, loadConfig({ env: {}, overrides: queue }));
    const base = await local({ ...queue, fallback: upstream.chatFallback(['overflow']) }, runtime);
    // One answer runs, one waits: the local queue is full.
    const running = [post(base, '/chat', { message: 'Un' })];
    await new Promise((r) => setTimeout(r, 100));
    running.push(post(base, '/chat', { message: 'Deux' }));
    await new Promise((r) => setTimeout(r, 100));
    const third = await post(base, '/chat', { message: 'Trois' });
    expect(third.status).toBe(200);
    expect(await third.json()).toMatchObject({
      text: 'Réponse du secours.',
      backend: 'openai',
      backend_reason: 'overflow',
    });
    release();
    for (const res of await Promise.all(running))
      expect(await res.json()).toMatchObject({ backend: 'local' });
  });
});
