/**
 * The HTTP and WebSocket probes of `bench:triade`: each figure is two performance.now() readings
 * of this process, the request's start and the event it waits for.
 */
import { RealtimeTestClient } from '../../src/testing/realtime-client.js';

const post = (base: string, path: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Reads a body of JSON lines (NDJSON, or SSE `data:` lines) as they come; `at` is ms from `start`. */
async function* jsonLines(
  res: Response,
  start: number,
): AsyncIterable<{ at: number; value: Record<string, unknown> }> {
  if (!res.ok) throw new Error(`${res.url}: HTTP ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body!) {
    const at = performance.now() - start;
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const json = line.startsWith('data:') ? line.slice(5).trim() : line.trim();
      if (json.startsWith('{')) yield { at, value: JSON.parse(json) as Record<string, unknown> };
    }
  }
}

export interface Timed {
  first: number;
  total: number;
}

/** `/chat` as Server-Sent Events: first token and end; the answer's text. */
export async function chat(base: string, message: string): Promise<Timed & { text: string }> {
  const start = performance.now();
  let first = NaN;
  let text = '';
  const res = await post(base, '/chat', { message }, { accept: 'text/event-stream' });
  for await (const { at, value } of jsonLines(res, start)) {
    if (value.type === 'text' && Number.isNaN(first)) first = at;
    if (value.type === 'done') text = String(value.text);
    if (value.type === 'error') throw new Error(`/chat: ${JSON.stringify(value.error)}`);
  }
  return { first, total: performance.now() - start, text };
}

/** `/her/chat`: first audio line and end. */
export async function herChat(base: string, message: string): Promise<Timed> {
  const start = performance.now();
  let first = NaN;
  const res = await post(base, '/her/chat', { message, max_tokens: 64 });
  for await (const { at, value } of jsonLines(res, start)) {
    if (value.type === 'audio' && Number.isNaN(first)) first = at;
    if (value.type === 'error') throw new Error(`/her/chat: ${JSON.stringify(value.error)}`);
  }
  return { first, total: performance.now() - start };
}

/** `/tts` as WAV: first byte and end; the audio, for the round trip through the STT. */
export async function tts(base: string, text: string): Promise<Timed & { wav: Buffer }> {
  const start = performance.now();
  const res = await post(base, '/tts', { text });
  if (!res.ok) throw new Error(`/tts: HTTP ${res.status} ${await res.text()}`);
  let first = NaN;
  const parts: Buffer[] = [];
  for await (const chunk of res.body!) {
    if (Number.isNaN(first)) first = performance.now() - start;
    parts.push(Buffer.from(chunk as Uint8Array));
  }
  return { first, total: performance.now() - start, wav: Buffer.concat(parts) };
}

/** `/v1/audio/transcriptions` of a WAV: the text. */
export async function transcribe(base: string, wav: Buffer, name = 'audio.wav'): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(wav)]), name);
  form.append('model', 'whisper-1');
  const res = await fetch(`${base}/v1/audio/transcriptions`, { method: 'POST', body: form });
  if (!res.ok) throw new Error(`/v1/audio/transcriptions: HTTP ${res.status} ${await res.text()}`);
  return String(((await res.json()) as { text: string }).text);
}

/** GET of a health route: status and time. */
export async function probe(base: string, path: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - start };
}

export interface Connectivity {
  connectMs: number[];
  pingMs: number[];
  /** A command's audio chunks sent, and taken by the server (no `error` event, committed). */
  chunksSent: number;
  chunksAcked: number;
  /** Output audio chunks of a spoken response, received whole up to its `output_audio.done`. */
  chunksReceived: number;
  timeouts: number;
}

/**
 * WebSocket health on `url` (a Realtime path): connect time (`connects` times), WebSocket ping
 * round trips, a recorded command's 20 ms audio chunks in (then committed by the client), and the
 * spoken answer's audio chunks out.
 */
export async function connectivity(
  url: string,
  pings: number,
  clip: string,
  connects = 5,
): Promise<Connectivity> {
  const c: Connectivity = {
    connectMs: [],
    pingMs: [],
    chunksSent: 0,
    chunksAcked: 0,
    chunksReceived: 0,
    timeouts: 0,
  };
  for (let i = 0; i < connects; i++) {
    const start = performance.now();
    const client = await RealtimeTestClient.connect(url);
    await client.waitFor('session.created');
    c.connectMs.push(performance.now() - start);
    await client.close();
  }
  const client = await RealtimeTestClient.connect(url);
  try {
    await client.waitFor('session.created');
    client.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: null } }, max_output_tokens: 32 },
    });
    await client.waitFor('session.updated');
    const ws = client.ws;
    for (let i = 0; i < pings; i++) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          c.timeouts++;
          reject(new Error('no pong within 5 s'));
        }, 5000);
        ws.once('pong', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.ping();
      });
      c.pingMs.push(performance.now() - start);
    }
    // A French command in 20 ms chunks at real-time pace (speech: the answer then has audio).
    await client.streamWav(clip, 0);
    c.chunksSent = Math.round(client.audioSentMs / 20);
    client.send({ type: 'input_audio_buffer.commit' });
    // TCP loses nothing; the server may refuse a frame (size, rate, encoding) with an `error`
    // event: every chunk without one was taken, and the commit holds them all.
    const committed = await client
      .waitFor('input_audio_buffer.committed', { timeoutMs: 10_000 })
      .catch(() => undefined);
    if (!committed) c.timeouts++;
    c.chunksAcked = committed ? c.chunksSent - client.of('error').length : 0;
    client.send({
      type: 'response.create',
      response: { max_output_tokens: 64 },
    });
    await client.waitFor('response.done', { timeoutMs: 120_000 }).catch(() => c.timeouts++);
    // Received whole: each delta is PCM16 (an even byte count) and the stream ended with its `done`.
    const deltas = client.of('response.output_audio.delta');
    const ended = client.of('response.output_audio.done').length > 0;
    c.chunksReceived = ended
      ? deltas.filter((d) => Buffer.byteLength(String(d.delta), 'base64') % 2 === 0).length
      : 0;
  } finally {
    await client.close();
  }
  return c;
}
