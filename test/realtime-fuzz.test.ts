import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { TestUpstream } from './fallback-upstream.js';
import { listenForTest } from './helpers.js';

/** Malformed input through a real socket (fake engines: this is about the protocol, not the models). */
const overrides = {
  vad: { minSpeechMs: 64, minSilenceMs: 200, prefixPaddingMs: 100 },
  realtime: { maxFrameBytes: 64 * 1024, maxMessagesPerSec: 100_000, maxSessions: 2 },
};
const config = loadConfig({ env: {}, overrides });
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;

beforeAll(async () => {
  const runtime = await fakeRuntime();
  app = await buildServer({
    config,
    logger: silentLogger,
    runtime: () => runtime,
    store: new SqliteStore(':memory:'),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/realtime`;
});
afterAll(() => app?.close());

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.cancel',
];
const WRONG_VALUES = [42, null, true, [], {}, 'x', -1, 1e308, { type: 'nope' }];

/** One message that must be refused: each generator names why. */
function malformed(rnd: () => number): { data: string | Buffer; binary: boolean } {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const json = (o: unknown) => ({ data: JSON.stringify(o), binary: false });
  switch (Math.floor(rnd() * 9)) {
    case 0: // not JSON
      return {
        data: pick(['{', '}{', 'null,', '{"type":', '\u0000\u0001', 'true false', '[1,2']),
        binary: false,
      };
    case 1: // JSON, not an event
      return json(pick([null, 1, 'text', [], [{ type: 'response.create' }], { event_id: 'e' }]));
    case 2: // unknown event type
      return json({ type: pick(['hello', 'response.audio.delta', 'session.created', '', 'x'.repeat(500)]) });
    case 3: // a known event with a field of the wrong type
      return json({
        type: pick(['input_audio_buffer.append', 'conversation.item.truncate', 'conversation.item.create']),
        audio: pick(WRONG_VALUES),
        item_id: pick(WRONG_VALUES),
        item: pick(WRONG_VALUES),
        audio_end_ms: pick(WRONG_VALUES),
      });
    case 4: // a session.update with invalid values
      return json({
        type: 'session.update',
        session: pick([
          { audio: { input: { format: { type: 'audio/mp3' } } } },
          { audio: { output: { voice: 'nobody' } } },
          { output_modalities: [] },
          { instructions: 42 },
          { audio: { input: { turn_detection: { threshold: 7 } } } },
          { audio: { input: { transcription: { language: 'french!' } } } },
        ]),
      });
    case 5: // binary garbage (binary audio not enabled)
      return {
        data: Buffer.from(
          Array.from({ length: 1 + Math.floor(rnd() * 4000) }, () => Math.floor(rnd() * 256)),
        ),
        binary: true,
      };
    case 6: // a frame over the size limit
      return {
        data: JSON.stringify({
          type: 'input_audio_buffer.append',
          audio: 'A'.repeat(70_000 + Math.floor(rnd() * 50_000)), // over 64 KiB, under the 128 KiB close
        }),
        binary: false,
      };
    case 7: // out of order: nothing to commit, cancel, truncate, delete or retrieve
      return json(
        pick([
          { type: 'input_audio_buffer.commit' },
          { type: 'response.cancel' },
          { type: 'conversation.item.truncate', item_id: 'item_missing', content_index: 0, audio_end_ms: 5 },
          { type: 'conversation.item.delete', item_id: 'item_missing' },
          { type: 'conversation.item.retrieve', item_id: 'item_missing' },
        ]),
      );
    default: // bad base64 audio
      return json({ type: pick(TYPES.slice(1, 2)), audio: pick(['***', 'a', '====', 'YWJj\u00e9']) });
  }
}

/** 1,000 malformed messages: each gets one error event, the socket stays open, a valid turn is answered. */
async function fuzz(url: string): Promise<void> {
  const client = await RealtimeTestClient.connect(url);
  await client.waitFor('session.created', { timeoutMs: 10_000 });
  const rnd = random(20261123);
  for (let i = 0; i < 1000; i++) {
    const { data, binary } = malformed(rnd);
    client.ws.send(data, { binary });
  }
  await client.waitFor('error', { n: 1000, timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 200)); // nothing else trails in
  const answered = client.events.filter((e) => e.type !== 'session.created');
  expect(answered.every((e) => e.type === 'error')).toBe(true);
  expect(answered).toHaveLength(1000);
  const codes = new Set(answered.map((e) => (e.error as { code: string }).code));
  for (const c of [
    'invalid_json',
    'invalid_event',
    'unknown_event',
    'binary_audio_disabled',
    'frame_too_large',
    'item_not_found',
  ])
    expect(codes, c).toContain(c);
  expect(client.closed).toBeUndefined();
  // A valid turn: loud tone (speech for the energy VAD), then silence.
  const tone = new Float32Array(24000 * 0.4).map((_, i) => 0.25 * Math.sin(i / 3));
  await client.streamPcm(new Float32Array([...tone, ...new Float32Array(24000 * 0.4)]));
  const done = await client.waitFor('response.done', { timeoutMs: 10_000 });
  expect((done.response as { status: string }).status).toBe('completed');
  await client.close();
}

describe('fuzz: 1,000 malformed messages', () => {
  it('each gets one error event, the socket stays open, and a valid turn is answered afterwards', () =>
    fuzz(url));

  it('with the fallback on: a session served by the upstream answers the same', async () => {
    const upstream = await TestUpstream.start(await fakeRuntime(), overrides);
    const fallback = loadConfig({
      env: {},
      overrides: {
        ...overrides,
        realtime: { ...overrides.realtime, maxSessions: 0 },
        fallback: upstream.fallback(['overflow']),
      },
    });
    const server = await listenForTest(fallback, await fakeRuntime());
    try {
      await fuzz(`${server.base.replace('http', 'ws')}/v1/realtime`);
    } finally {
      await server.app.close();
      await upstream.close();
    }
  });

  it('maxPayloadIsTwiceTheFrameLimit: a message over twice realtime.maxFrameBytes closes the socket (1009) before it is buffered whole', async () => {
    const client = await RealtimeTestClient.connect(url);
    await client.waitFor('session.created');
    client.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: 'A'.repeat(100_000) }));
    expect(((await client.waitFor('error')).error as { code: string }).code).toBe('frame_too_large');
    expect(client.closed).toBeUndefined();
    client.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: 'A'.repeat(140_000) }));
    await client.waitForClose();
    expect(client.closed?.code).toBe(1009);
  });

  it('sessions over the limit are refused with session_limit_reached and close code 1013', async () => {
    const open = [await RealtimeTestClient.connect(url), await RealtimeTestClient.connect(url)];
    const third = await RealtimeTestClient.connect(url);
    const error = await third.waitFor('error');
    expect((error.error as { code: string }).code).toBe('session_limit_reached');
    await new Promise((r) => setTimeout(r, 100));
    expect(third.closed?.code).toBe(1013);
    for (const c of open) await c.close();
  });
});
