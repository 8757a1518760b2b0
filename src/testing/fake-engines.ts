import type { Audio } from '../audio/wav.js';
import { abortReason, VoiceError } from '../errors.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from '../engines/llm/types.js';
import type { SttEngine, Transcript, TranscribeOptions } from '../engines/stt/types.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from '../engines/tts/types.js';
import type { TurnEngine, TurnPrediction } from '../engines/turn/types.js';
import { SerialQueue } from '../engines/serial.js';
import type { EngineInfo } from '../engines/types.js';

/**
 * Time-scripted engines for orchestration tests (as agents-js `testing/`): each call follows a
 * script of delays, outputs and failures, so races can be staged precisely. `hang` makes a call
 * that never answers and ignores its abort signal (the worst engine a session must survive).
 */
const info = (engine: string): EngineInfo => ({
  engine,
  model: 'scripted',
  device: 'cpu',
  threads: 1,
  loadMs: 0,
});

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const never = () => new Promise<never>(() => undefined);

export interface SttScript {
  text?: string;
  delayMs?: number;
  fail?: string;
  hang?: boolean;
}

export class FakeStt implements SttEngine {
  readonly info = info('fake-stt');
  readonly calls: { audioSec: number; language?: string | undefined; signal?: AbortSignal | undefined }[] =
    [];
  /** Partial transcripts (`priority: 'partial'`), counted apart so turn scripts keep their order. */
  readonly partialCalls: { audioSec: number }[] = [];
  constructor(
    public script: (call: number) => SttScript = () => ({ text: 'Bonjour.' }),
    public partialScript: (call: number, audioSec: number) => SttScript = () => ({ text: 'Bonjour.' }),
  ) {}

  async transcribe(audio: Audio, options: TranscribeOptions = {}): Promise<Transcript> {
    const audioSec = audio.samples.length / audio.sampleRate;
    const partial = options.priority === 'partial';
    const s = partial
      ? this.partialScript(this.partialCalls.length, audioSec)
      : this.script(this.calls.length);
    if (partial) this.partialCalls.push({ audioSec });
    else this.calls.push({ audioSec, language: options.language, signal: options.signal });
    if (s.hang) return never();
    await sleep(s.delayMs ?? 5, options.signal);
    if (s.fail) throw new VoiceError('engine_failed', s.fail);
    const text = s.text ?? 'Bonjour.';
    return {
      text,
      language: 'fr',
      segments: [{ startSec: 0, endSec: audioSec, text }],
      timing: { audioSec, vadMs: 0, decodeMs: 0, totalMs: 0, rtf: 0, audioCtx: 0 },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface LlmScript {
  tokens?: string[];
  firstTokenMs?: number;
  tokenMs?: number;
  /** Throws after this many tokens. */
  failAfter?: number;
  /** Never yields (and ignores the abort signal) after this many tokens. */
  hangAfter?: number;
  /** With `hangAfter`: the hang ends (the call then finishes) when this settles. */
  hangUntil?: Promise<unknown>;
}

export class FakeLlm implements LlmEngine {
  readonly info = info('fake-llm');
  readonly calls: ChatMessage[][] = [];
  /** One answer at a time, the others waiting inside, as an engine with one native sequence. */
  serial = false;
  private readonly jobs = new SerialQueue();
  constructor(public script: (call: number) => LlmScript = () => ({ tokens: ['Bien ', 'sûr', '.'] })) {}

  /** Conversations prefilled: whether each ran to its end, or was aborted. */
  readonly prefills: { messages: ChatMessage[]; completed: boolean; aborted: boolean }[] = [];
  /** How long a prefill takes. */
  prefillMs = 5;

  async prefill(messages: ChatMessage[], options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const entry = { messages: messages.map((m) => ({ ...m })), completed: false, aborted: false };
    this.prefills.push(entry);
    try {
      await sleep(this.prefillMs, options.signal);
    } catch {
      entry.aborted = true;
      return false;
    }
    entry.completed = true;
    return true;
  }

  async *chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
    if (!this.serial) {
      yield* this.answer(messages, options);
      return;
    }
    let release!: () => void;
    await new Promise<void>((started) => {
      void this.jobs.run(() => {
        started();
        return new Promise<void>((r) => (release = r));
      });
    });
    try {
      yield* this.answer(messages, options);
    } finally {
      release();
    }
  }

  private async *answer(messages: ChatMessage[], options: ChatOptions): AsyncGenerator<LlmEvent> {
    const s = this.script(this.calls.length);
    const hang = () => (s.hangUntil ? s.hangUntil.then(() => undefined) : never());
    this.calls.push(messages.map((m) => ({ ...m })));
    const tokens = s.tokens ?? ['Bien ', 'sûr', '.'];
    const started = performance.now();
    let sent = 0;
    const done = (finishReason: 'stop' | 'aborted'): LlmEvent => ({
      type: 'done',
      finishReason,
      usage: { promptTokens: messages.length, completionTokens: sent },
      timing: { firstTokenMs: null, totalMs: performance.now() - started, tokensPerSec: 0 },
    });
    for (const token of tokens) {
      if (s.hangAfter === sent) await hang();
      if (s.failAfter === sent) throw new VoiceError('engine_failed', 'scripted LLM failure');
      try {
        await sleep(sent === 0 ? (s.firstTokenMs ?? 5) : (s.tokenMs ?? 2), options.signal);
      } catch {
        yield done('aborted');
        return;
      }
      sent++;
      yield { type: 'delta', text: token };
    }
    if (s.hangAfter === sent) await hang();
    yield done('stop');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TtsScript {
  delayMs?: number;
  /** Audio length per character of text. */
  msPerChar?: number;
  fail?: string;
  hang?: boolean;
  /** The audio is yielded this many times (as a long text cut into sentences would be). */
  chunks?: number;
  /** Synthesis time of each chunk after the first. */
  chunkMs?: number;
}

/** Speaks a 440 Hz tone whose length follows the text, at 24 kHz. */
export class FakeTts implements TtsEngine {
  readonly info = info('fake-tts');
  readonly language = 'fr';
  readonly calls: string[] = [];
  /** Chunks handed out so far, over all calls. */
  yielded = 0;
  /** One sentence at a time, the others waiting inside, as a voice with one native session. */
  serial = false;
  private readonly jobs = new SerialQueue();
  constructor(public script: (call: number, text: string) => TtsScript = () => ({})) {}

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<TtsChunk> {
    const s = this.script(this.calls.length, text);
    this.calls.push(text);
    if (s.hang) await never();
    await this.work(s.delayMs ?? 2, options.signal);
    if (s.fail) throw new VoiceError('engine_failed', s.fail);
    const sampleRate = 24000;
    const samples = new Float32Array(Math.round(((s.msPerChar ?? 4) * text.length * sampleRate) / 1000));
    for (let i = 0; i < samples.length; i++)
      samples[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / sampleRate);
    for (let n = 0; n < (s.chunks ?? 1); n++) {
      if (n > 0 && s.chunkMs) await this.work(s.chunkMs, options.signal);
      this.yielded++;
      yield { samples, sampleRate, text };
    }
  }

  private work(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return this.serial ? this.jobs.run(() => sleep(ms, signal)) : sleep(ms, signal);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TurnScript {
  probability?: number;
  delayMs?: number;
  fail?: string;
}

/** An end-of-turn model whose probability per call is scripted. */
export class FakeTurn implements TurnEngine {
  readonly info = info('fake-turn');
  readonly calls: { audioSec: number }[] = [];
  constructor(public script: (call: number) => TurnScript = () => ({ probability: 0.9 })) {}

  async predict(samples: Float32Array): Promise<TurnPrediction> {
    const s = this.script(this.calls.length);
    this.calls.push({ audioSec: samples.length / 16000 });
    await sleep(s.delayMs ?? 2);
    if (s.fail) throw new VoiceError('engine_failed', s.fail);
    return { probability: s.probability ?? 0.9, featuresMs: 0, inferenceMs: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
