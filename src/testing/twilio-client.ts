import WebSocket from 'ws';
import { readWav } from '../audio/wav.js';
import { encodeForWire } from '../protocol/audio-format.js';

/** 20 ms of 8 kHz μ-law: what Twilio sends per `media` message, and plays per tick. */
const FRAME_BYTES = 160;
const FRAME_MS = 20;

type Queued = { audio: Buffer } | { mark: string };

export interface TwilioCallInfo {
  accountSid: string;
  callSid: string;
  streamSid: string;
  customParameters?: Record<string, string>;
}

/**
 * Twilio's side of a bidirectional Media Stream, written from Twilio's documentation
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages), for tests and benchmarks:
 * `connected`, `start`, caller audio as 20 ms μ-law `media` at real-time pace, `dtmf`, `stop`.
 * What the server sends plays as Twilio plays it: a buffer drained at real time, each `mark`
 * echoed once the audio before it has played (at once when nothing is queued), and `clear`
 * emptying the buffer and echoing the marks still in it.
 */
export class TwilioTestClient {
  /** Every message the server sent, with its arrival time (performance.now()). */
  readonly received: { event: string; at: number; message: Record<string, unknown> }[] = [];
  /** Marks echoed: `played` when their audio played, else because a clear dropped it. */
  readonly echoed: { name: string; at: number; played: boolean }[] = [];
  /** Bytes of answer audio received and played. */
  receivedBytes = 0;
  playedBytes = 0;
  closed: { code: number; reason: string } | undefined;
  private queue: Queued[] = [];
  private sequence = 0;
  private chunk = 0;
  private readonly player: NodeJS.Timeout;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly call: TwilioCallInfo,
  ) {
    ws.on('message', (data) =>
      this.onMessage(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>),
    );
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      clearInterval(this.player);
      this.wake();
    });
    this.player = setInterval(() => this.play(), FRAME_MS);
  }

  static connect(
    url: string,
    call: TwilioCallInfo,
    headers: Record<string, string> = {},
  ): Promise<TwilioTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new TwilioTestClient(ws, call);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode ?? 'no status'}`)),
      );
    });
  }

  /** `connected` then `start`, as Twilio opens a stream. */
  start(): void {
    this.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const { accountSid, callSid, streamSid, customParameters = {} } = this.call;
    this.sendJson({
      event: 'start',
      sequenceNumber: String(++this.sequence),
      start: {
        accountSid,
        streamSid,
        callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters,
      },
      streamSid,
    });
  }

  sendJson(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Caller audio (8 kHz μ-law), in 20 ms `media` messages at real-time pace. */
  async streamMulaw(audio: Uint8Array, signal?: AbortSignal): Promise<void> {
    const started = performance.now();
    for (let i = 0, n = 0; i < audio.length; i += FRAME_BYTES, n++) {
      if (signal?.aborted || this.ws.readyState !== WebSocket.OPEN) return;
      this.sendJson({
        event: 'media',
        sequenceNumber: String(++this.sequence),
        media: {
          track: 'inbound',
          chunk: String(++this.chunk),
          timestamp: String(n * FRAME_MS),
          payload: Buffer.from(audio.subarray(i, i + FRAME_BYTES)).toString('base64'),
        },
        streamSid: this.call.streamSid,
      });
      const wait = started + (n + 1) * FRAME_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** A WAV as the phone network carries it (8 kHz μ-law), then `silenceMs` of silence. */
  async streamWav(path: string, silenceMs = 1000, signal?: AbortSignal): Promise<void> {
    await this.streamMulaw(await phoneAudio(path, silenceMs), signal);
  }

  dtmf(digit: string): void {
    this.sendJson({
      event: 'dtmf',
      streamSid: this.call.streamSid,
      sequenceNumber: String(++this.sequence),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  stop(): void {
    const { accountSid, callSid, streamSid } = this.call;
    this.sendJson({
      event: 'stop',
      sequenceNumber: String(++this.sequence),
      stop: { accountSid, callSid },
      streamSid,
    });
  }

  of(event: string) {
    return this.received.filter((m) => m.event === event);
  }

  /** Waits until `test` holds; fails after `timeoutMs`. */
  async until(test: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!test()) {
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    clearInterval(this.player);
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }

  private onMessage(message: Record<string, unknown>) {
    const event = String(message.event);
    this.received.push({ event, at: performance.now(), message });
    if (event === 'media') {
      const payload = Buffer.from((message.media as { payload: string }).payload, 'base64');
      this.receivedBytes += payload.length;
      this.queue.push({ audio: payload });
    } else if (event === 'mark') {
      this.queue.push({ mark: (message.mark as { name: string }).name });
      this.echoLeadingMarks(true);
    } else if (event === 'clear') {
      for (const q of this.queue) if ('mark' in q) this.echo(q.mark, false);
      this.queue = [];
    }
    this.wake();
  }

  /** One tick of playback: 20 ms of the queued audio, then the marks it reached. */
  private play() {
    let left = FRAME_BYTES;
    while (left > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if ('mark' in head) {
        this.echo(head.mark, true);
        this.queue.shift();
        continue;
      }
      const take = Math.min(left, head.audio.length);
      this.playedBytes += take;
      left -= take;
      if (take === head.audio.length) this.queue.shift();
      else this.queue[0] = { audio: head.audio.subarray(take) };
    }
    this.echoLeadingMarks(true);
  }

  /** Marks with no audio before them are echoed at once. */
  private echoLeadingMarks(played: boolean) {
    while (this.queue.length > 0 && 'mark' in this.queue[0]!) {
      this.echo((this.queue.shift() as { mark: string }).mark, played);
    }
  }

  private echo(name: string, played: boolean) {
    this.echoed.push({ name, at: performance.now(), played });
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.sendJson({
      event: 'mark',
      sequenceNumber: String(++this.sequence),
      streamSid: this.call.streamSid,
      mark: { name },
    });
    this.wake();
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A WAV as a phone line carries it: 8 kHz (band-limited) μ-law, then `silenceMs` of silence. */
export async function phoneAudio(path: string, silenceMs = 0): Promise<Uint8Array> {
  const wav = await readWav(path);
  const all = new Float32Array(wav.samples.length + Math.round((silenceMs * wav.sampleRate) / 1000));
  all.set(wav.samples);
  return encodeForWire(all, wav.sampleRate, { type: 'audio/pcmu' });
}
