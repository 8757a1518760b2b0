import WebSocket from 'ws';
import { resample } from '../audio/resample.js';
import { float32ToInt16 } from '../audio/pcm.js';
import { readWav } from '../audio/wav.js';
import type { ServerEvent } from '../protocol/server-events.js';

/**
 * A minimal Realtime client for tests and benchmarks: records every server event with its arrival
 * time (performance.now()) and streams WAV files as 24 kHz PCM16 at real-time pace.
 */
export class RealtimeTestClient {
  readonly events: (ServerEvent & { at: number })[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;
  /** Input audio appended so far (ms), and when each 20 ms frame was sent (performance.now()). */
  audioSentMs = 0;
  private readonly frameSentAt: number[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const event = JSON.parse((data as Buffer).toString('utf8')) as ServerEvent;
      this.events.push({ ...event, at: performance.now() });
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static connect(
    url: string,
    options: WebSocket.ClientOptions = {},
    protocols: string[] = [],
  ): Promise<RealtimeTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, options);
      const client = new RealtimeTestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(event: object): void {
    this.ws.send(JSON.stringify(event));
  }

  of(type: string): (ServerEvent & { at: number })[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Waits for the n-th (1-based) event of a type that matches; fails after `timeoutMs` listing what came. */
  async waitFor(
    type: string,
    options: { n?: number; timeoutMs?: number; match?: (e: ServerEvent) => boolean } = {},
  ): Promise<ServerEvent & { at: number }> {
    const { n = 1, timeoutMs = 30_000, match = () => true } = options;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter((e) => e.type === type && match(e));
      if (found.length >= n) return found[n - 1]!;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting for ${type}`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${type} #${n}; got ${this.events.map((e) => e.type).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Streams a WAV as PCM16 (24 kHz, or `rate` for a session set to it) in 20 ms
   * `input_audio_buffer.append` events at real-time pace (`speed` 0.5: half of it), followed by
   * `silenceMs` of silence. Resolves when the last frame is sent.
   */
  async streamWav(
    path: string,
    silenceMs = 1000,
    signal?: AbortSignal,
    speed = 1,
    rate = 24000,
  ): Promise<void> {
    const wav = await readWav(path);
    const audio = resample(wav.samples, wav.sampleRate, rate);
    const silence = new Float32Array(Math.round((silenceMs * rate) / 1000));
    const all = new Float32Array(audio.length + silence.length);
    all.set(audio);
    all.set(silence, audio.length);
    await this.streamPcm(all, signal, speed, rate);
  }

  async streamPcm(samples: Float32Array, signal?: AbortSignal, speed = 1, rate = 24000): Promise<void> {
    const frame = rate / 50; // 20 ms
    const started = performance.now();
    for (let i = 0, n = 0; i < samples.length; i += frame, n++) {
      if (signal?.aborted || this.ws.readyState !== WebSocket.OPEN) return;
      const pcm = float32ToInt16(samples.subarray(i, i + frame));
      this.send({
        type: 'input_audio_buffer.append',
        audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64'),
      });
      this.frameSentAt.push(performance.now());
      this.audioSentMs += (pcm.length * 1000) / rate;
      const wait = started + ((n + 1) * 20) / speed - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** When the input audio at this position (ms since the session's first append) was sent. */
  sentAt(positionMs: number): number {
    return this.frameSentAt[Math.min(this.frameSentAt.length - 1, Math.floor(positionMs / 20))] ?? NaN;
  }

  /** Settles when the server (or the client) has closed the socket. */
  waitForClose(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the socket did not close')), timeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }
}
