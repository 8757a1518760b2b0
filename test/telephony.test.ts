import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mulawEncode } from '../src/audio/g711.js';
import { loadConfig, type ConfigInput } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { twilioSignature } from '../src/telephony/twilio-signature.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { MetaRecordingStore } from '../src/testing/meta-store.js';
import { TwilioTestClient } from '../src/testing/twilio-client.js';

/** Telephony plumbing on scripted engines: TwiML, signatures, bad input, stop, the plain socket. */
const TOKEN = 'twilio-test-auth-token';
const ACCOUNT = 'AC00000000000000000000000000000001';
const fast = {
  vad: { minSpeechMs: 64, minSilenceMs: 200, prefixPaddingMs: 100 },
  realtime: { maxMessagesPerSec: 100_000, sentenceCacheSize: 0 },
  telephony: { twilioAuthToken: TOKEN },
} satisfies ConfigInput;

let runtime: Runtime;
let store: MetaRecordingStore;
let app: Awaited<ReturnType<typeof listenOnLoopback>>['app'];
let base: string;

beforeAll(async () => {
  runtime = await fakeRuntime();
  store = new MetaRecordingStore();
  let url: string;
  ({ app, base: url } = await listenOnLoopback(loadConfig({ env: {}, overrides: fast }), runtime, undefined, {
    store,
  }));
  base = url.replace('http://', '');
});
afterAll(async () => {
  await app?.close();
});

/** μ-law 8 kHz: `ms` of a loud tone (speech to the energy VAD), then `silenceMs` of silence. */
function toneThenSilence(ms: number, silenceMs: number): Uint8Array {
  const pcm = new Int16Array((ms + silenceMs) * 8);
  for (let i = 0; i < ms * 8; i++) pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
  return mulawEncode(pcm);
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function errorCounts(transport: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${base}/metrics`)).text();
  const family = parsePrometheusTextFormat(text).find((f) => f.name === 'voice_errors_total');
  const out: Record<string, number> = {};
  for (const m of (family?.metrics ?? []) as { labels: Record<string, string>; value: string }[])
    if (m.labels.transport === transport) out[m.labels.code!] = Number(m.value);
  return out;
}

function connectTwilio(callSid: string): Promise<TwilioTestClient> {
  const url = `ws://${base}/v1/telephony/twilio`;
  return TwilioTestClient.connect(
    url,
    {
      accountSid: ACCOUNT,
      callSid,
      streamSid: `MZ${callSid.slice(2)}`,
      customParameters: { From: '+33100000001', To: '+33100000002' },
    },
    { 'x-twilio-signature': twilioSignature(TOKEN, url) },
  );
}

describe('Twilio TwiML webhook', () => {
  const params = { CallSid: 'CA1', AccountSid: ACCOUNT, From: '+33100000001', To: '+33100000002' };
  const post = (signature: string | undefined) =>
    fetch(`http://${base}/v1/telephony/twilio/voice`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature ? { 'x-twilio-signature': signature } : {}),
      },
      body: form(params),
    });

  it('answers a signed call with <Connect><Stream> to this server, the numbers as parameters', async () => {
    const res = await post(twilioSignature(TOKEN, `http://${base}/v1/telephony/twilio/voice`, params));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    const body = await res.text();
    expect(body).toContain('<Response>\n  <Connect>');
    expect(body).toContain(`<Stream url="ws://${base}/v1/telephony/twilio">`);
    expect(body).toContain('<Parameter name="From" value="+33100000001" />');
    expect(body).toContain('<Parameter name="To" value="+33100000002" />');
  });

  it('refuses a bad or missing X-Twilio-Signature with 403', async () => {
    for (const signature of [
      twilioSignature('another-token', `http://${base}/v1/telephony/twilio/voice`, params),
      undefined,
    ]) {
      const res = await post(signature);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('twilio_signature_invalid');
    }
  });

  it('refuses a Media Stream upgrade without a valid signature', async () => {
    const url = `ws://${base}/v1/telephony/twilio`;
    const call = { accountSid: ACCOUNT, callSid: 'CA9', streamSid: 'MZ9' };
    await expect(
      TwilioTestClient.connect(url, call, { 'x-twilio-signature': twilioSignature('another-token', url) }),
    ).rejects.toThrow('upgrade refused: 403');
  });
});

describe('Twilio Media Stream on scripted engines', () => {
  it('bad input is counted and the call goes on; stop ends it and the conversation is saved with the call', async () => {
    const before = await errorCounts('twilio');
    const client = await connectTwilio('CA0000000000000000000000000000000a');
    client.ws.send('{not json');
    client.sendJson({ event: 'bogus' });
    client.sendJson({ event: 'media', media: { payload: 'AAAA' } }); // before start
    client.start();
    client.sendJson({ event: 'media', media: { payload: '' } });
    client.sendJson({ event: 'media', media: { payload: Buffer.alloc(9000).toString('base64') } });
    client.sendJson({ event: 'media', media: { payload: '@@@@' } });
    client.sendJson({ event: 'start', streamSid: 'MZx', start: {} }); // malformed
    await client.streamMulaw(toneThenSilence(600, 600));
    // The turn is answered: μ-law media, and marks the client echoes as it plays them.
    await client.until(() => client.echoed.some((m) => m.played), 'a mark played', 10_000);
    expect(client.receivedBytes).toBeGreaterThan(0);
    const after = await errorCounts('twilio');
    const added = (code: string) => (after[code] ?? 0) - (before[code] ?? 0);
    expect(added('invalid_json')).toBe(1);
    expect(added('unknown_event')).toBe(1);
    expect(added('call_not_started')).toBe(1);
    expect(added('invalid_audio_payload')).toBe(3);
    expect(added('invalid_event')).toBe(1);
    client.stop();
    await client.until(() => client.closed !== undefined, 'the server to close the stream', 5000);
    expect(client.closed!.code).toBe(1000);
    const saved = store.metas.find((m) => m.meta.callSid === client.call.callSid)!;
    expect(saved.owner).toBe(`twilio:${ACCOUNT}`);
    expect(saved.meta).toEqual({
      transport: 'twilio',
      accountSid: ACCOUNT,
      callSid: client.call.callSid,
      streamSid: client.call.streamSid,
      from: '+33100000001',
      to: '+33100000002',
    });
    await new Promise((r) => setTimeout(r, 50));
    const items = await store.history(saved.owner, saved.sessionId);
    expect(items.map((i) => i.role)).toEqual(['user', 'assistant']);
    expect(items[0]!.text).toBe('Bonjour.');
  });

  it('DTMF digits become a user text item that is answered', async () => {
    const client = await connectTwilio('CA0000000000000000000000000000000b');
    client.start();
    for (const d of ['4', '2', '#']) client.dtmf(d);
    await client.until(() => client.receivedBytes > 0, 'an answer', 10_000);
    // The whole answer: no more audio for 300 ms.
    for (let last = -1; last !== client.receivedBytes;) {
      last = client.receivedBytes;
      await new Promise((r) => setTimeout(r, 300));
    }
    client.stop();
    await client.until(() => client.closed !== undefined, 'close', 5000);
    const saved = store.metas.find((m) => m.meta.callSid === client.call.callSid)!;
    await new Promise((r) => setTimeout(r, 50));
    const items = await store.history(saved.owner, saved.sessionId);
    expect(items[0]).toMatchObject({ role: 'user', text: 'DTMF: 42#' });
    expect(items[1]?.role).toBe('assistant');
  });
});

describe('plain 8 kHz WebSocket', () => {
  it('L16 frames in and out, marks echoed, a JSON error for a bad frame, start metadata, stop', async () => {
    const ws = new WebSocket(`ws://${base}/v1/telephony/stream?encoding=l16&marks=true`);
    const texts: Record<string, unknown>[] = [];
    let binaryBytes = 0;
    ws.on('message', (data, isBinary) => {
      if (isBinary) binaryBytes += (data as Buffer).length;
      else {
        const message = JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
        texts.push(message);
        if (message.type === 'mark') ws.send(JSON.stringify({ type: 'mark', name: message.name }));
      }
    });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'start', call_id: 'sip-1', from: '1001', to: '2000' }));
    ws.send(Buffer.alloc(3)); // odd: not 16-bit samples
    const tone = new Int16Array(8 * 1200);
    for (let i = 0; i < 8 * 600; i++) tone[i] = Math.round(12000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
    for (let i = 0; i < tone.length; i += 160) {
      ws.send(Buffer.from(tone.buffer, i * 2, 320));
      await new Promise((r) => setTimeout(r, 20));
    }
    const deadline = Date.now() + 10_000;
    while (!texts.some((t) => t.type === 'mark') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(texts[0]).toMatchObject({ type: 'session', encoding: 'l16', sample_rate: 8000 });
    expect(texts).toContainEqual(expect.objectContaining({ type: 'error', code: 'invalid_audio_payload' }));
    expect(texts.some((t) => t.type === 'mark')).toBe(true);
    // 16-bit samples at 8 kHz.
    expect(binaryBytes % 2).toBe(0);
    expect(binaryBytes).toBeGreaterThan(0);
    ws.send(JSON.stringify({ type: 'stop' }));
    expect(await closed).toBe(1000);
    const sessionId = texts[0]!.session_id as string;
    expect(store.metas.find((m) => m.sessionId === sessionId)?.meta).toEqual({
      transport: 'phone',
      callId: 'sip-1',
      from: '1001',
      to: '2000',
    });
  });
});

describe('telephony with auth on', () => {
  it('Twilio paths need its signature instead of a token; the plain socket needs a token', async () => {
    const authed = await buildServer({
      config: loadConfig({
        env: {},
        overrides: { ...fast, auth: { enabled: true, secret: 'x'.repeat(32) } },
      }),
      logger: silentLogger,
      runtime: () => runtime,
      store: new SqliteStore(':memory:'),
    });
    await authed.listen({ host: '127.0.0.1', port: 0 });
    const host = `127.0.0.1:${(authed.server.address() as { port: number }).port}`;
    try {
      const url = `ws://${host}/v1/telephony/twilio`;
      const call = { accountSid: ACCOUNT, callSid: 'CA7', streamSid: 'MZ7' };
      const client = await TwilioTestClient.connect(url, call, {
        'x-twilio-signature': twilioSignature(TOKEN, url),
      });
      await client.close();
      await expect(TwilioTestClient.connect(url, call)).rejects.toThrow('upgrade refused: 403');
      const plain = new WebSocket(`ws://${host}/v1/telephony/stream`);
      const status = await new Promise<number | undefined>((resolve) => {
        plain.once('unexpected-response', (_req, res) => resolve(res.statusCode));
        plain.once('open', () => resolve(101));
      });
      expect(status).toBe(401);
    } finally {
      await authed.close();
    }
  });
});
