import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeWav, encodeWav } from '../src/audio/wav.js';
import { loadConfig, type Config, type ConfigInput } from '../src/config.js';
import { silentLogger, type Logger } from '../src/log.js';
import type { Runtime } from '../src/runtime/runtime.js';
import type { ScheduledLlm } from '../src/engines/scheduled.js';
import { buildServer } from '../src/server.js';
import { ANONYMOUS_OWNER } from '../src/http/auth.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { buildPage } from './web-harness.js';
import { FakeLlm, FakeTts } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { selfSignedCert } from './helpers.js';

/**
 * The HTTP API on scripted engines (the real engines are in http.real.test.ts): routes, errors,
 * auth, limits, persistence across a restart, metrics and graceful shutdown, through real sockets.
 */
const tmp = mkdtempSync(join(tmpdir(), 'voice-http-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type App = Awaited<ReturnType<typeof buildServer>>;
interface Server {
  app: App;
  url: string;
  store: SqliteStore;
  runtime: Runtime;
  config: Config;
  close(): Promise<void>;
}

async function start(
  overrides: ConfigInput = {},
  runtime?: Runtime,
  dbPath?: string,
  logger: Logger = silentLogger,
): Promise<Server> {
  const config = loadConfig({ env: {}, overrides: { llm: { maxTokens: 64 }, ...overrides } });
  const rt = runtime ?? (await fakeRuntime());
  const store = new SqliteStore(dbPath ?? ':memory:');
  const app = await buildServer({ config, logger, runtime: () => rt, store });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    app,
    url,
    store,
    runtime: rt,
    config,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe('HTTP routes (scripted engines)', () => {
  let s: Server;
  beforeAll(async () => {
    s = await start({ http: { bodyLimitBytes: 4096, uploadLimitBytes: 64 * 1024 } });
  });
  afterAll(() => s.close(), 10_000);

  it('/chat answers in JSON and keeps the conversation by session id', async () => {
    const first = (await (await post(`${s.url}/chat`, { message: 'Bonjour' })).json()) as Record<
      string,
      string
    >;
    expect(first.text).toBe('Bien sûr.');
    expect(first.session_id).toMatch(/^sess_/);
    const llm = (s.runtime.engines.llm as ScheduledLlm).inner as FakeLlm;
    await post(`${s.url}/chat`, { message: 'Et ensuite ?', session_id: first.session_id });
    expect(llm.calls.at(-1)!.map((m) => `${m.role}:${m.content}`)).toEqual([
      `system:${s.config.realtime.instructions}`,
      'user:Bonjour',
      'assistant:Bien sûr.',
      'user:Et ensuite ?',
    ]);
  });

  it('/chat streams Server-Sent Events with Accept: text/event-stream', async () => {
    const res = await post(`${s.url}/chat`, { message: 'Bonjour' }, { accept: 'text/event-stream' });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(events.filter((e) => e.type === 'text').map((e) => e.delta)).toEqual(['Bien ', 'sûr', '.']);
    expect(events.at(-1)).toMatchObject({ type: 'done', text: 'Bien sûr.' });
  });

  it('/her/chat streams text deltas, audio per sentence, then done with timings', async () => {
    const res = await post(`${s.url}/her/chat`, { message: 'Bonjour' });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const events = lines(await res.text());
    const audio = events.find((e) => e.type === 'audio')!;
    expect(audio.sample_rate).toBe(24000);
    expect(Buffer.from(audio.audio as string, 'base64').length).toBeGreaterThan(100);
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    const marks = (done.timings as { marks: Record<string, number> }).marks;
    for (const m of ['first_llm_token', 'first_tts_chunk', 'first_audio_sent', 'done'])
      expect(marks, m).toHaveProperty(m);
  });

  it('/tts streams WAV, PCM or μ-law', async () => {
    const wav = await post(`${s.url}/tts`, { text: 'Bonjour. Au revoir.' });
    expect(wav.headers.get('content-type')).toBe('audio/wav');
    const decoded = decodeWav(Buffer.from(await wav.arrayBuffer()));
    expect(decoded.sampleRate).toBe(24000);
    expect(decoded.samples.length).toBeGreaterThan(1000);
    const pcm = await post(`${s.url}/tts`, { text: 'Bonjour.', format: 'pcm' });
    expect(pcm.headers.get('content-type')).toBe('audio/L16; rate=24000; channels=1');
    const mulaw = await post(`${s.url}/tts`, { text: 'Bonjour.', format: 'mulaw' });
    expect(mulaw.headers.get('content-type')).toBe('audio/basic');
    expect(mulaw.headers.get('x-sample-rate')).toBe('8000');
    // 8 kHz, one byte per sample: a third of the 24 kHz PCM's samples.
    const [p, m] = [(await pcm.arrayBuffer()).byteLength / 2, (await mulaw.arrayBuffer()).byteLength];
    expect(Math.abs(m - p / 3)).toBeLessThan(50);
  });

  it('/v1/models lists the LLM, the STT model and the voices', async () => {
    const body = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toEqual(['fake:scripted', 'fake-stt:scripted', 'fake']);
  });

  it('bad input gets a 4xx with a catalogue code; the server keeps serving and loses nothing stored', async () => {
    const { session_id } = (await (await post(`${s.url}/chat`, { message: 'Note ceci' })).json()) as {
      session_id: string;
    };
    const before = await s.store.history(ANONYMOUS_OWNER, session_id);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('ID3\x03 not a wav, an mp3 header')]), 'a.mp3');
    const aiff = new FormData();
    aiff.append('file', new Blob([Buffer.from('FORM\x00\x00\x00\x04AIFF')]), 'a.aiff');
    const wavForm = new FormData();
    wavForm.append('model', 'whisper-1');
    const upload = (bytes: Buffer) => {
      const body = new FormData();
      body.append('file', new Blob([bytes]), 'cut.wav');
      return fetch(`${s.url}/v1/audio/transcriptions`, { method: 'POST', body });
    };
    const cases: [string, () => Promise<Response>, number, string[]][] = [
      ['bad JSON', () => post(`${s.url}/chat`, '{"message": '), 400, ['invalid_json']],
      ['wrong type', () => post(`${s.url}/chat`, { message: 42 }), 400, ['invalid_request']],
      ['unknown field', () => post(`${s.url}/tts`, { text: 'a', colour: 'red' }), 400, ['invalid_request']],
      ['bad format', () => post(`${s.url}/tts`, { text: 'a', format: 'mp3' }), 400, ['invalid_request']],
      ['not an object', () => post(`${s.url}/chat`, '[1,2]'), 400, ['invalid_request']],
      ['empty text', () => post(`${s.url}/chat`, { message: '   ' }), 400, ['empty_text']],
      ['empty speech', () => post(`${s.url}/tts`, { text: '' }), 400, ['empty_text']],
      [
        'bad session id',
        () => post(`${s.url}/chat`, { message: 'a', session_id: '../x' }),
        400,
        ['invalid_request'],
      ],
      [
        'a session id the client made up',
        () => post(`${s.url}/chat`, { message: 'a', session_id: 'alice' }),
        404,
        ['conversation_not_found'],
      ],
      [
        'unknown voice',
        () => post(`${s.url}/her/chat`, { message: 'a', voice: 'nope' }),
        400,
        ['invalid_request'],
      ],
      ['oversize body', () => post(`${s.url}/chat`, { message: 'a'.repeat(5000) }), 413, ['body_too_large']],
      [
        'unsupported content type',
        () =>
          fetch(`${s.url}/chat`, {
            method: 'POST',
            headers: { 'content-type': 'application/xml' },
            body: '<a/>',
          }),
        415,
        ['unsupported_media_type'],
      ],
      [
        'an mp3 header and no mp3',
        () => fetch(`${s.url}/v1/audio/transcriptions`, { method: 'POST', body: form }),
        400,
        ['invalid_audio'],
      ],
      [
        'a format outside the accepted ones (AIFF)',
        () => fetch(`${s.url}/v1/audio/transcriptions`, { method: 'POST', body: aiff }),
        415,
        ['unsupported_audio_format'],
      ],
      [
        'a truncated WAV (its header announces more than it holds)',
        () => upload(encodeWav(new Int16Array(1600), 16000).subarray(0, 40 + 1000)),
        400,
        ['invalid_audio'],
      ],
      [
        'a WAV cut inside its header',
        () => upload(encodeWav(new Int16Array(16), 16000).subarray(0, 30)),
        400,
        ['invalid_audio'],
      ],
      [
        'no file',
        () => fetch(`${s.url}/v1/audio/transcriptions`, { method: 'POST', body: wavForm }),
        400,
        ['invalid_request'],
      ],
      [
        'JSON to the upload route',
        () => post(`${s.url}/v1/audio/transcriptions`, { file: 'x' }),
        415,
        ['unsupported_media_type'],
      ],
      [
        'speech format',
        () =>
          post(`${s.url}/v1/audio/speech`, {
            model: 'tts-1',
            input: 'a',
            voice: 'alloy',
            response_format: 'mp3',
          }),
        400,
        ['invalid_request'],
      ],
      ['unknown route', () => fetch(`${s.url}/nope`), 404, ['not_found']],
    ];
    for (const [name, send, status, codes] of cases) {
      const error = await errorOf(await send());
      expect(error.status, name).toBe(status);
      expect(codes, `${name}: ${error.code} ${error.message}`).toContain(error.code);
      expect(error.message, name).not.toBe('');
    }
    const after = (await (await post(`${s.url}/chat`, { message: 'Encore', session_id })).json()) as {
      text: string;
    };
    expect(after.text).toBe('Bien sûr.');
    const history = await s.store.history(ANONYMOUS_OWNER, session_id);
    expect(history.slice(0, before.length)).toEqual(before);
    expect(history.map((i) => i.text)).toEqual(['Note ceci', 'Bien sûr.', 'Encore', 'Bien sûr.']);
  });

  it('an oversize upload is refused with body_too_large', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(128 * 1024)]), 'big.wav');
    const error = await errorOf(
      await fetch(`${s.url}/v1/audio/transcriptions`, { method: 'POST', body: form }),
    );
    expect([error.status, error.code]).toEqual([413, 'body_too_large']);
  });

  it('/metrics parses as Prometheus text with the turn, error, cache and session metrics', async () => {
    expect(() => parsePrometheusTextFormat('voice_broken{stage="a" 1\n')).toThrow(); // the parser does check
    for (let i = 0; i < 2; i++) await (await post(`${s.url}/her/chat`, { message: 'Encore' })).text();
    await post(`${s.url}/chat`, '{');
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await res.text());
    const family = (name: string) => {
      const f = families.find((m) => m.name === name);
      expect(f, name).toBeDefined();
      return f!;
    };
    const value = (name: string, labels: Record<string, string>) =>
      Number(
        family(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
          ?.value ?? NaN,
      );
    expect(value('voice_turns_total', { transport: 'http', status: 'completed' })).toBeGreaterThanOrEqual(2);
    expect(value('voice_errors_total', { transport: 'http', code: 'invalid_json' })).toBeGreaterThanOrEqual(
      1,
    );
    // This parser keeps histogram buckets but merges their label sets: the labels are read from
    // the counters; the histogram is checked for its type and buckets.
    const stage = family('voice_turn_stage_seconds');
    expect(stage.type).toBe('HISTOGRAM');
    expect(Object.keys(stage.metrics[0]!.buckets!)).toEqual(expect.arrayContaining(['0.05', '1', '+Inf']));
    expect(value('voice_sentence_cache_misses_total', {})).toBeGreaterThan(0);
    expect(value('voice_sentence_cache_hits_total', {})).toBeGreaterThan(0); // "Bien sûr." again
    expect(value('voice_active_sessions', { transport: 'realtime' })).toBe(0);
    expect(value('voice_engine_ready', { stage: 'stt' })).toBe(1);
    // Each /her/chat answer ran one LLM job and at least one TTS job through their queues.
    expect(value('voice_engine_queue_jobs_total', { stage: 'llm', lane: 'batch' })).toBeGreaterThanOrEqual(2);
    expect(value('voice_engine_queue_jobs_total', { stage: 'tts', lane: 'batch' })).toBeGreaterThanOrEqual(2);
    expect(
      value('voice_engine_queue_wait_seconds_total', { stage: 'llm', lane: 'batch' }),
    ).toBeGreaterThanOrEqual(0);
    family('voice_interruptions_total');
    family('voice_fillers_played_total');
    family('voice_gpu_utilization_ratio');
    family('voice_http_request_duration_seconds');
  });

  it('/ready reports every engine and the GPU (null with the reason when there is none)', async () => {
    const res = await fetch(`${s.url}/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.ready).toBe(true);
    expect(Object.keys(body.engines as object)).toEqual(['vad', 'stt', 'llm', 'tts', 'turn']);
    // This runtime has no end-of-turn model: /ready says so, and what sessions do instead.
    expect((body.engines as Record<string, unknown>).turn).toMatchObject({
      state: 'failed',
      fallback: expect.stringMatching(/server_vad/) as unknown,
    });
    expect((body.engines as Record<string, { state: string }>).llm).toMatchObject({
      state: 'ready',
      device: 'cpu',
    });
    if (body.gpu === null) expect(body.gpuReason).toEqual(expect.any(String));
    else expect(Array.isArray(body.gpu)).toBe(true);
  });
});

describe('routes before the engines are ready', () => {
  it('answer not_ready (503, Retry-After) while /health stays up', async () => {
    const config = loadConfig({ env: {} });
    const store = new SqliteStore(':memory:');
    const app = await buildServer({ config, logger: silentLogger, runtime: () => undefined, store });
    try {
      const chat = await app.inject({ method: 'POST', url: '/chat', payload: { message: 'a' } });
      expect(chat.statusCode).toBe(503);
      expect(chat.headers['retry-after']).toBe('5');
      expect(chat.json<{ error: { code: string } }>().error.code).toBe('not_ready');
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
      const ready = await app.inject({ url: '/ready' });
      expect([ready.statusCode, ready.json<{ ready: boolean }>().ready]).toEqual([503, false]);
    } finally {
      await app.close();
    }
  });
});

describe('conversations persist', () => {
  it('session ids are not logged at info: they let a caller continue the conversation', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const logged = await start({}, undefined, undefined, logger);
    try {
      const { session_id } = (await (await post(`${logged.url}/chat`, { message: 'Bonjour' })).json()) as {
        session_id: string;
      };
      const client = await RealtimeTestClient.connect(
        `${logged.url.replace('http', 'ws')}/v1/realtime?session_id=${session_id}`,
      );
      await client.waitFor('session.created');
      client.ws.close();
      await new Promise((r) => client.ws.once('close', r));
      await new Promise((r) => setTimeout(r, 50));
      expect(lines.some((l) => l.includes('session opened'))).toBe(true);
      expect(lines.filter((l) => l.includes(session_id))).toEqual([]);
    } finally {
      await logged.close();
    }
  });

  it('a conversation created over HTTP continues after a restart, over HTTP and over the WebSocket', async () => {
    const db = join(tmp, 'restart.db');
    const a = await start({}, undefined, db);
    const { session_id } = (await (await post(`${a.url}/chat`, { message: 'Je m’appelle Léa.' })).json()) as {
      session_id: string;
    };
    await a.close();

    const b = await start({}, undefined, db);
    try {
      await post(`${b.url}/chat`, { message: 'Comment je m’appelle ?', session_id });
      const llm = (b.runtime.engines.llm as ScheduledLlm).inner as FakeLlm;
      expect(
        llm.calls
          .at(-1)!
          .slice(1)
          .map((m) => m.content),
      ).toEqual(['Je m’appelle Léa.', 'Bien sûr.', 'Comment je m’appelle ?']);
      // The real-time session continues the same conversation, and what it says is stored too.
      const client = await RealtimeTestClient.connect(
        `${b.url.replace('http', 'ws')}/v1/realtime?session_id=${session_id}`,
      );
      const created = await client.waitFor('session.created');
      expect((created.session as { id: string }).id).toBe(session_id);
      client.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Et en texte ?' }] },
      });
      client.send({ type: 'response.create', response: { output_modalities: ['text'] } });
      await client.waitFor('response.done');
      expect(llm.calls.at(-1)!.map((m) => m.content)).toContain('Je m’appelle Léa.');
      client.ws.close();
      await new Promise((r) => client.ws.once('close', r));
      const stored = await b.store.history(ANONYMOUS_OWNER, session_id);
      expect(stored.map((i) => `${i.role}:${i.text}`)).toEqual([
        'user:Je m’appelle Léa.',
        'assistant:Bien sûr.',
        'user:Comment je m’appelle ?',
        'assistant:Bien sûr.',
        'user:Et en texte ?',
        'assistant:Bien sûr.',
      ]);
    } finally {
      await b.close();
    }
  });
});

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const sign = (claims: { exp?: number | null; sub?: string; iss?: string; iat?: number }, secret = SECRET) => {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub ?? 'tester');
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600);
  return jwt.sign(new TextEncoder().encode(secret));
};

describe('auth and limits', () => {
  let s: Server;
  beforeAll(async () => {
    s = await start({
      auth: { enabled: true, secret: SECRET, issuer: 'voice-tests', maxSessionsPerToken: 1 },
      http: { requestsPerMinute: 1000, authFailuresPerMinute: 1000 },
    });
  });
  afterAll(() => s.close(), 10_000);

  const ROUTES: [string, string][] = [
    ['GET', '/health'],
    ['GET', '/ready'],
    ['GET', '/metrics'],
    ['GET', '/v1/models'],
    ['POST', '/chat'],
    ['POST', '/her/chat'],
    ['POST', '/tts'],
    ['POST', '/v1/audio/speech'],
    ['POST', '/v1/audio/transcriptions'],
    ['GET', '/nope'],
  ];

  it('a missing, invalid or expired token is refused on every route', async () => {
    const expired = await sign({ iss: 'voice-tests', exp: Math.floor(Date.now() / 1000) - 60 });
    const tokens: [string, Record<string, string>, string][] = [
      ['missing', {}, 'unauthorized'],
      ['garbage', { authorization: 'Bearer not.a.jwt' }, 'unauthorized'],
      [
        'wrong key',
        { authorization: `Bearer ${await sign({ iss: 'voice-tests' }, 'x'.repeat(40))}` },
        'unauthorized',
      ],
      ['wrong issuer', { authorization: `Bearer ${await sign({ iss: 'other' })}` }, 'unauthorized'],
      ['expired', { authorization: `Bearer ${expired}` }, 'token_expired'],
    ];
    for (const [method, path] of ROUTES)
      for (const [name, headers, code] of tokens) {
        const res = await fetch(`${s.url}${path}`, {
          method,
          headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(method === 'POST' ? { body: '{"message":"a","text":"a"}' } : {}),
        });
        const error = await errorOf(res);
        expect([error.status, error.code], `${method} ${path} ${name}`).toEqual([401, code]);
      }
    const expiredInQuery = await fetch(`${s.url}/health?token=${expired}`);
    expect(expiredInQuery.status).toBe(401);
  });

  it('a valid token is accepted in the Authorization header or ?token=', async () => {
    const token = await sign({ iss: 'voice-tests' });
    expect((await fetch(`${s.url}/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${s.url}/health?token=${token}`)).status).toBe(200);
    const res = await post(`${s.url}/chat`, { message: 'Bonjour' }, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
  });

  it('the voice page and its files are open without a token (they hold nothing); the API is not', async () => {
    buildPage();
    for (const path of ['/', '/app/main.js', '/app/capture-worklet.js', '/app/style.css'])
      expect((await fetch(`${s.url}${path}`)).status, path).toBe(200);
    expect((await fetch(`${s.url}/v1/models`)).status).toBe(401);
  });

  it('the WebSocket refuses a missing, invalid or expired token before the upgrade', async () => {
    const ws = s.url.replace('http', 'ws');
    const expired = await sign({ iss: 'voice-tests', exp: Math.floor(Date.now() / 1000) - 60 });
    const refused = (url: string, protocols: string[] = []) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url, protocols);
        socket.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          socket.terminate();
        });
        socket.on('open', () => reject(new Error(`${url} was accepted`)));
        socket.on('error', () => undefined);
      });
    expect(await refused(`${ws}/v1/realtime`)).toBe(401);
    expect(await refused(`${ws}/v1/realtime?token=garbage`)).toBe(401);
    expect(await refused(`${ws}/ws/chat?token=${expired}`)).toBe(401);
    expect(await refused(`${ws}/ws/chat`, ['realtime', `openai-insecure-api-key.${expired}`])).toBe(401);
  });

  it('the WebSocket takes a token in ?token=, the subprotocol or the header; sessions per token are limited', async () => {
    const ws = s.url.replace('http', 'ws');
    const token = await sign({ iss: 'voice-tests', sub: 'alice' });
    const viaProtocol = await RealtimeTestClient.connect(`${ws}/v1/realtime`, {}, [
      'realtime',
      `openai-insecure-api-key.${token}`,
    ]);
    await viaProtocol.waitFor('session.created');
    expect(viaProtocol.ws.protocol).toBe('realtime');
    // alice already has her one session: a second one is refused, with the reason.
    const second = await RealtimeTestClient.connect(`${ws}/v1/realtime?token=${token}`);
    const error = await second.waitFor('error');
    expect((error.error as { code: string }).code).toBe('session_limit_reached');
    await second.waitForClose();
    expect(second.closed?.code).toBe(1013);
    // bob's token gets his own.
    const bob = await sign({ iss: 'voice-tests', sub: 'bob' });
    const viaHeader = await RealtimeTestClient.connect(`${ws}/ws/chat`, {
      headers: { authorization: `Bearer ${bob}` },
    });
    await viaHeader.waitFor('session.created');
    viaProtocol.ws.close();
    viaHeader.ws.close();
  });

  it('conversation ownership: another token holder cannot read, continue or reopen a conversation', async () => {
    const alice = { authorization: `Bearer ${await sign({ iss: 'voice-tests', sub: 'alice' })}` };
    const bob = { authorization: `Bearer ${await sign({ iss: 'voice-tests', sub: 'bob' })}` };
    const first = (await (await post(`${s.url}/chat`, { message: 'Mon code est 1234.' }, alice)).json()) as {
      session_id: string;
    };
    expect(first.session_id).toMatch(/^sess_[0-9a-f]{32}$/);
    const llm = (s.runtime.engines.llm as ScheduledLlm).inner as FakeLlm;
    const calls = llm.calls.length;
    for (const path of ['/chat', '/her/chat']) {
      const res = await post(
        `${s.url}${path}`,
        { message: 'Quel est son code ?', session_id: first.session_id },
        bob,
      );
      expect(await errorOf(res), path).toMatchObject({ status: 404, code: 'conversation_not_found' });
    }
    expect(llm.calls.length).toBe(calls);
    const ws = s.url.replace('http', 'ws');
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${ws}/v1/realtime?session_id=${first.session_id}`, { headers: bob });
      socket.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('open', () => reject(new Error('bob reopened alice’s conversation')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(404);
    // Alice herself continues it, and nothing bob sent was saved in it.
    const again = await post(
      `${s.url}/chat`,
      { message: 'Et ensuite ?', session_id: first.session_id },
      alice,
    );
    expect(again.status).toBe(200);
    expect((await s.store.history('sub:alice', first.session_id)).map((i) => i.text)).toEqual([
      'Mon code est 1234.',
      'Bien sûr.',
      'Et ensuite ?',
      'Bien sûr.',
    ]);
  });

  it('a token without exp is refused (auth.requireExp), and one older than auth.maxTokenAgeSec', async () => {
    const forever = await sign({ iss: 'voice-tests', exp: null });
    const res = await post(`${s.url}/chat`, { message: 'Bonjour' }, { authorization: `Bearer ${forever}` });
    expect(await errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    const aged = await start({ auth: { enabled: true, secret: SECRET, maxTokenAgeSec: 3600 } });
    try {
      const now = Math.floor(Date.now() / 1000);
      const get = async (t: string) =>
        (await fetch(`${aged.url}/health`, { headers: { authorization: `Bearer ${t}` } })).status;
      expect(await get(await sign({ iat: now - 60 }))).toBe(200);
      expect(await get(await sign({ iat: now - 7200, exp: now + 600 }))).toBe(401);
      expect(await get(await sign({}))).toBe(401); // no iat: its age is unknown
    } finally {
      await aged.close();
    }
  });

  it('a WebSocket is closed with token_expired when its token expires', async () => {
    const token = await sign({ iss: 'voice-tests', sub: 'carol', exp: Math.floor(Date.now() / 1000) + 2 });
    const client = await RealtimeTestClient.connect(
      `${s.url.replace('http', 'ws')}/v1/realtime?token=${token}`,
    );
    await client.waitFor('session.created');
    const error = await client.waitFor('error', { timeoutMs: 5000 });
    expect((error.error as { code: string }).code).toBe('token_expired');
    await client.waitForClose();
    expect(client.closed).toMatchObject({ code: 1008, reason: 'token_expired' });
  });

  it('the bearer subprotocol is never echoed back', async () => {
    const token = await sign({ iss: 'voice-tests', sub: 'dave' });
    const answered = await new Promise<string | undefined>((resolve) => {
      const socket = new WebSocket(`${s.url.replace('http', 'ws')}/v1/realtime`, [`bearer.${token}`]);
      socket.on('upgrade', (res) => resolve(res.headers['sec-websocket-protocol']));
      socket.on('open', () => socket.close());
      socket.on('error', () => undefined);
    });
    expect(answered).toBeUndefined();
  });

  it('a token without a subject is refused: it could own no conversation of its own', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('voice-tests')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    const res = await post(`${s.url}/chat`, { message: 'Bonjour' }, { authorization: `Bearer ${token}` });
    expect(await errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('failed authentications are rate-limited per address, before the token is checked', async () => {
    const guarded = await start({
      auth: { enabled: true, secret: SECRET },
      http: { requestsPerMinute: 1000, authFailuresPerMinute: 3 },
    });
    try {
      const get = (token: string) =>
        fetch(`${guarded.url}/health`, { headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 3; i++) expect((await get(`guess${i}`)).status).toBe(401);
      const refused = await get(await sign({}));
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'rate_limited' });
    } finally {
      await guarded.close();
    }
  });

  it.each([
    [
      'behindProxyEachClientHasItsOwnBucket: with server.trustProxy, X-Forwarded-For names the client',
      ['127.0.0.1'],
      401,
    ],
    ['without server.trustProxy, X-Forwarded-For is ignored (a client cannot pick its bucket)', [], 429],
  ])('%s', async (_, trustProxy, otherClient) => {
    const guarded = await start({
      server: { trustProxy },
      auth: { enabled: true, secret: SECRET },
      http: { requestsPerMinute: 1000, authFailuresPerMinute: 2 },
    });
    try {
      const get = (client: string) =>
        fetch(`${guarded.url}/health`, {
          headers: { authorization: 'Bearer guess', 'x-forwarded-for': client },
        });
      for (let i = 0; i < 2; i++) expect((await get('203.0.113.7')).status).toBe(401);
      expect((await get('203.0.113.7')).status).toBe(429);
      expect((await get('198.51.100.9')).status).toBe(otherClient);
    } finally {
      await guarded.close();
    }
  });

  it('idleConnectionIsClosed: a connection that sends nothing is closed within http.requestTimeoutMs', async () => {
    const s = await start({ http: { requestTimeoutMs: 1000 } });
    try {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(s.url).port), '127.0.0.1');
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await s.close();
    }
  });

  it('over TLS too: an idle connection is closed, a request whose answer takes longer is not', async () => {
    const { cert, key } = selfSignedCert(mkdtempSync(join(tmp, 'tls-')));
    const llm = new FakeLlm(() => ({ tokens: ['Oui.'], firstTokenMs: 2500 }));
    const s = await start(
      { server: { tlsCert: cert, tlsKey: key }, http: { requestTimeoutMs: 1000 } },
      await fakeRuntime({ llm }),
    );
    const port = Number(new URL(s.url).port);
    try {
      const idle = performance.now();
      await new Promise<void>((resolve, reject) => {
        const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      expect(performance.now() - idle).toBeLessThan(5000);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest({
          port,
          host: '127.0.0.1',
          path: '/chat',
          method: 'POST',
          rejectUnauthorized: false,
          headers: { 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ message: 'bonjour' }));
      });
      expect(status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('slowUploadIsCut: a request body that has not arrived within http.requestTimeoutMs gets 408', async () => {
    const s = await start({ http: { requestTimeoutMs: 1000 } });
    try {
      const started = performance.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(s.url).port), '127.0.0.1');
        let data = '';
        socket.on('data', (c: Buffer) => (data += c.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        // Announces 1000 bytes, sends 10, then nothing (a slow or stalled upload).
        socket.write(
          'POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"message"',
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await s.close();
    }
  });

  it('the rate limit answers 429 with Retry-After; probes are never limited', async () => {
    const limited = await start({ http: { requestsPerMinute: 3 } });
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${limited.url}/v1/models`)).status).toBe(200);
      const res = await fetch(`${limited.url}/v1/models`);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await errorOf(res)).toMatchObject({ status: 429, code: 'rate_limited' });
      for (const probe of ['/health', '/ready', '/metrics'])
        expect((await fetch(`${limited.url}${probe}`)).status, probe).not.toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('WebSocket origin', () => {
  /** The HTTP status of the upgrade (101 when accepted) and the error code of a refusal. */
  const upgrade = (url: string, headers: Record<string, string>) =>
    new Promise<{ status: number; code?: string }>((resolve) => {
      const socket = new WebSocket(url, { headers });
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            code: (JSON.parse(body) as { error: { code: string } }).error.code,
          });
          socket.terminate();
        });
      });
      socket.on('open', () => {
        resolve({ status: 101 });
        socket.close();
      });
      socket.on('error', () => undefined);
    });

  it('a page of another origin cannot open the WebSocket; the same origin, allowed origins and non-browsers can', async () => {
    const s = await start({ server: { allowedOrigins: ['https://app.example'] } });
    try {
      const ws = `${s.url.replace('http', 'ws')}/v1/realtime`;
      expect(await upgrade(ws, { origin: 'http://evil.example' })).toEqual({
        status: 403,
        code: 'origin_not_allowed',
      });
      expect(await upgrade(ws, { origin: 'null' })).toMatchObject({ status: 403 });
      expect(await upgrade(ws, { origin: s.url })).toEqual({ status: 101 });
      expect(await upgrade(ws, { origin: 'https://app.example' })).toEqual({ status: 101 });
      expect(await upgrade(ws, {})).toEqual({ status: 101 });
    } finally {
      await s.close();
    }
  });
});

describe('slow HTTP readers', () => {
  it('slowHttpReaderHoldsTheSynthesis: /tts makes audio only as fast as the client reads, and a stalled client is cut', async () => {
    // 400 chunks of 1 s (48 kB each, 19 MB in all) for a client that reads the first bytes, then nothing.
    const tts = new FakeTts(() => ({ msPerChar: 1000, chunks: 400 }));
    const runtime = await fakeRuntime({ voices: new Map([['fake', tts]]) });
    const s = await start({ http: { writeStallTimeoutMs: 1500 } }, runtime);
    const before = tts.yielded; // the fillers made at start
    try {
      let response: IncomingMessage | undefined;
      const cut = new Promise<string>((resolve) => {
        const req = httpRequest(`${s.url}/tts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
          response = res;
          res.once('data', () => res.pause());
          res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
        });
        req.on('error', () => resolve('cut'));
        req.end(JSON.stringify({ text: 'a' }));
      });
      await new Promise((r) => setTimeout(r, 1000));
      // The socket buffers hold a few MB; the rest is not made while nobody reads it.
      expect(tts.yielded - before).toBeLessThan(200);
      // Past the stall limit the server closes; the client, reading again, gets what was buffered
      // (the close comes after it: TCP delivers it in order), then the cut.
      await new Promise((r) => setTimeout(r, 2500));
      response!.resume();
      expect(await cut).toBe('cut');
      expect(tts.yielded - before).toBeLessThan(200);
    } finally {
      await s.close();
    }
  });
});

describe('HTTP load and live turns (engine queues)', () => {
  const engineSettings = (engines: ConfigInput['engines']) => loadConfig({ env: {}, overrides: { engines } });

  it('httpBeyondQueueDepthGets503: /tts requests past engines.maxQueuedHttpJobs get 503 engine_busy with Retry-After', async () => {
    const tts = new FakeTts(() => ({ delayMs: 150 }));
    tts.serial = true;
    const runtime = await fakeRuntime(
      { voices: new Map([['fake', tts]]) },
      engineSettings({ maxQueuedHttpJobs: 2 }),
    );
    const s = await start({ engines: { maxQueuedHttpJobs: 2 } }, runtime);
    try {
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => post(`${s.url}/tts`, { text: `Phrase numéro ${i}.` })),
      );
      const busy = responses.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3);
      expect(busy[0]!.headers.get('retry-after')).toBe('2');
      expect(await errorOf(busy[0]!)).toMatchObject({ code: 'engine_busy' });
      await Promise.all(responses.map((r) => r.arrayBuffer().catch(() => undefined)));
    } finally {
      await s.close();
    }
  });

  it('queueWaitDoesNotTimeOutHttpAnswers: the first-token limit starts when an answer leaves the LLM queue', async () => {
    // One answer at a time (as llama.cpp's one sequence), each 250 ms to its first token; limit 400 ms.
    const llm = new FakeLlm(() => ({ tokens: ['Oui', '.'], firstTokenMs: 250 }));
    llm.serial = true;
    const runtime = await fakeRuntime({ llm });
    const s = await start({ realtime: { firstTokenTimeoutMs: 400 } }, runtime);
    try {
      const responses = await Promise.all(
        Array.from({ length: 3 }, (_, i) => post(`${s.url}/chat`, { message: `question ${i}` })),
      );
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    } finally {
      await s.close();
    }
  });

  it('stuckEngineShowsInReady: an LLM call that ignores its cancel turns /ready to 503 naming the engine, until it ends', async () => {
    let unblock!: () => void;
    const hangUntil = new Promise<void>((r) => (unblock = r));
    const llm = new FakeLlm((call) => (call === 0 ? { hangAfter: 0, hangUntil } : {}));
    const runtime = await fakeRuntime({ llm }, engineSettings({ stuckAfterMs: 200 }));
    const s = await start({ realtime: { firstTokenTimeoutMs: 200 } }, runtime);
    try {
      const res = await post(`${s.url}/chat`, { message: 'bonjour' });
      expect(await errorOf(res)).toMatchObject({ status: 504, code: 'timeout' });
      await new Promise((r) => setTimeout(r, 300));
      const stuck = await fetch(`${s.url}/ready`);
      expect(stuck.status).toBe(503);
      const report = (await stuck.json()) as { engines: { llm: { state: string; reason: string } } };
      expect(report.engines.llm.state).toBe('stuck');
      expect(report.engines.llm.reason).toMatch(/still running/);
      // The service still answers (the stuck call no longer holds the queue).
      expect((await post(`${s.url}/chat`, { message: 'encore' })).status).toBe(200);
      unblock();
      await new Promise((r) => setTimeout(r, 50));
      const after = await fetch(`${s.url}/ready`);
      expect(after.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets a streamed answer finish, refuses new work, closes sessions with 1001', async () => {
    const runtime = await fakeRuntime({
      llm: new FakeLlm(() => ({
        tokens: 'Une réponse qui prend son temps. Elle finit ici.'.split(/(?<= )/),
        tokenMs: 60,
      })),
    });
    const s = await start({ server: { shutdownDeadlineMs: 5000 } }, runtime);
    const client = await RealtimeTestClient.connect(`${s.url.replace('http', 'ws')}/v1/realtime`);
    await client.waitFor('session.created');
    const answer = post(`${s.url}/her/chat`, { message: 'Parle' }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 150));
    const closing = s.app.shutdown();
    const refused = await post(`${s.url}/chat`, { message: 'Encore' }).then(errorOf, (e: Error) => ({
      status: 0,
      code: e.message,
    }));
    const events = lines(await answer);
    await closing;
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      text: 'Une réponse qui prend son temps. Elle finit ici.',
    });
    // Refused while draining, or the listener had already closed.
    if (refused.status !== 0) expect(refused).toMatchObject({ status: 503, code: 'shutting_down' });
    await client.waitForClose();
    expect(client.closed?.code).toBe(1001);
    await s.store.close();
  });

  it('cuts answers at the deadline and keeps what was written', async () => {
    const runtime = await fakeRuntime({
      llm: new FakeLlm(() => ({ tokens: Array.from({ length: 100 }, (_, i) => `mot${i} `), tokenMs: 20 })),
    });
    const s = await start({ server: { shutdownDeadlineMs: 200 } }, runtime);
    const res = await post(`${s.url}/chat`, { message: 'Parle' }, { accept: 'text/event-stream' });
    const sessionId = res.headers.get('x-session-id')!;
    const body = res.text();
    await new Promise((r) => setTimeout(r, 100));
    await s.app.shutdown();
    const events = (await body)
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'shutting_down' } });
    const stored = await s.store.history(ANONYMOUS_OWNER, sessionId);
    expect(stored[0]?.text).toBe('Parle');
    expect(stored[1]?.text).toMatch(/^mot0 mot1 /);
    await s.store.close();
  });
});

describe('auth configuration', () => {
  it('refuses to start with auth on and no usable key', async () => {
    const store = new SqliteStore(':memory:');
    for (const auth of [
      { enabled: true, secret: 'short' },
      { enabled: true, algorithm: 'RS256' as const },
      { enabled: true, algorithm: 'RS256' as const, publicKeyFile: join(tmp, 'absent.pem') },
    ]) {
      const config = loadConfig({ env: {}, overrides: { auth } });
      await expect(
        buildServer({ config, logger: silentLogger, runtime: () => undefined, store }),
      ).rejects.toThrow(/auth\.(secret|publicKeyFile)/);
    }
    await store.close();
  });

  it('accepts RS256 tokens signed by the key pair of auth.publicKeyFile, and no other', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = join(tmp, 'public.pem');
    writeFileSync(pem, await exportSPKI(publicKey));
    const s = await start({
      auth: { enabled: true, algorithm: 'RS256', publicKeyFile: pem, audience: 'voice' },
    });
    try {
      const token = (key: CryptoKeyLike, aud = 'voice') =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256' })
          .setAudience(aud)
          .setSubject('tester')
          .setExpirationTime('5m')
          .sign(key);
      const get = async (t: string) =>
        (await fetch(`${s.url}/health`, { headers: { authorization: `Bearer ${t}` } })).status;
      expect(await get(await token(privateKey))).toBe(200);
      expect(await get(await token(privateKey, 'other'))).toBe(401);
      const stranger = await generateKeyPair('RS256');
      expect(await get(await token(stranger.privateKey))).toBe(401);
      expect(await get(await sign({}))).toBe(401); // HS256 is not accepted by an RS256 server
    } finally {
      await s.close();
    }
  });
});

type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
