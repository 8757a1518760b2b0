import { loadConfig, type Config, type ConfigInput } from '../config.js';
import type { TtsEngine } from '../engines/tts/types.js';
import { silentLogger } from '../log.js';
import { FillerBank } from '../pipeline/fillers.js';
import { SentenceCache } from '../pipeline/sentence-cache.js';
import type { Dialect, ServerEvent } from '../protocol/server-events.js';
import { ConversationSync } from '../session/persistence.js';
import { RealtimeSession } from '../session/session.js';
import { newSessionId } from '../store/session-id.js';
import type { ConversationStore } from '../store/types.js';
import type { Retrieval } from '../rag/retrieval.js';
import { FakeLlm, FakeStt, FakeTts, type FakeTurn } from './fake-engines.js';
import { FakeVad } from './fake-vad.js';

export interface HarnessOptions {
  stt?: FakeStt;
  llm?: FakeLlm;
  tts?: FakeTts;
  /** An end-of-turn model: sessions then default to semantic_vad; without one, server_vad. */
  turn?: FakeTurn;
  config?: ConfigInput;
  fillers?: boolean;
  dialect?: Dialect;
  /** Saves the conversation there (owner `test`, a new session id). */
  store?: ConversationStore;
  /** The knowledge base answers draw on. */
  rag?: Retrieval;
}

/** A RealtimeSession on fake engines (energy VAD) with a transport that records what it sends. */
export class SessionHarness {
  readonly events: ServerEvent[] = [];
  readonly binary: Uint8Array[] = [];
  closedWith: { code: number; reason: string } | undefined;
  readonly stt: FakeStt;
  readonly llm: FakeLlm;
  readonly tts: FakeTts;
  readonly config: Config;
  session!: RealtimeSession;
  persistence: ConversationSync | undefined;
  /** What the transport reports as sent but not yet on the network (a slow reader: set it). */
  bufferedBytes = 0;
  private waiters: (() => void)[] = [];

  private constructor(options: HarnessOptions) {
    this.stt = options.stt ?? new FakeStt();
    this.llm = options.llm ?? new FakeLlm();
    this.tts = options.tts ?? new FakeTts();
    this.config = loadConfig({
      env: {},
      overrides: {
        ...options.config,
        vad: { minSpeechMs: 64, minSilenceMs: 200, prefixPaddingMs: 100, ...options.config?.vad },
        realtime: { audioLeadMs: 200, ...options.config?.realtime },
      },
    });
  }

  static async create(options: HarnessOptions = {}): Promise<SessionHarness> {
    const h = new SessionHarness(options);
    const voices = new Map<string, TtsEngine>([['fake', h.tts]]);
    const fillers =
      options.fillers === false ? undefined : await FillerBank.build(voices, { fr: ['Hum.'] }, silentLogger);
    h.tts.calls.length = 0;
    const id = newSessionId();
    if (options.store) h.persistence = new ConversationSync(options.store, 'test', id, [], silentLogger);
    h.session = new RealtimeSession({
      id,
      ...(h.persistence ? { persistence: h.persistence } : {}),
      ...(options.rag ? { rag: options.rag } : {}),
      engines: {
        vad: FakeVad.energy(),
        stt: h.stt,
        llm: h.llm,
        voices,
        defaultVoice: 'fake',
        ...(options.turn ? { turn: options.turn } : { turnUnavailable: 'not loaded (test)' }),
      },
      fillers,
      cache: new SentenceCache(h.config.realtime.sentenceCacheSize),
      config: h.config,
      logger: silentLogger,
      dialect: options.dialect ?? 'ga',
      model: 'test',
      transport: {
        sendJson: (e) => h.push(e),
        sendBinary: (b) => h.binary.push(b),
        close: (code, reason) => (h.closedWith = { code, reason }),
        bufferedBytes: () => h.bufferedBytes,
      },
    });
    return h;
  }

  private push(e: ServerEvent) {
    this.events.push(e);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(event: object | string): Promise<void> {
    return this.session.receive(typeof event === 'string' ? event : JSON.stringify(event), false);
  }

  /** Appends 24 kHz PCM16: a loud tone (speech for the energy VAD) or silence, in 20 ms frames. */
  async audio(ms: number, loud: boolean, { paceMs = 0 }: { paceMs?: number } = {}): Promise<void> {
    for (const event of this.speechFrames(ms, loud)) {
      await this.send(event);
      // Paced: background work (the end-of-turn model, a speculative transcript) lands between frames.
      if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
    }
  }

  /** `input_audio_buffer.append` events of 20 ms each. */
  speechFrames(ms: number, loud = true): object[] {
    const frame = 480;
    const pcm = Buffer.alloc(frame * 2);
    if (loud) for (let i = 0; i < frame; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), i * 2);
    const audio = pcm.toString('base64');
    return Array.from({ length: Math.ceil(ms / 20) }, () => ({ type: 'input_audio_buffer.append', audio }));
  }

  /** One spoken turn: speech then enough silence for the VAD to end it. */
  async turn(speechMs = 400): Promise<void> {
    await this.audio(speechMs, true);
    await this.audio(300, false);
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  of(type: string): ServerEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Waits for the `n`-th event (1-based) of a type that matches. */
  async waitFor(type: string, n = 1, timeoutMs = 5000, match: (e: ServerEvent) => boolean = () => true) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter((e) => e.type === type && match(e));
      if (found.length >= n) return found[n - 1]!;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${type} #${n}; got: ${this.types().join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Every response.created has its response.done, with nothing active left. */
  async settled(): Promise<void> {
    await this.session.idle();
  }
}
