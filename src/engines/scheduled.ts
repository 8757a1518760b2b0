import type { Audio } from '../audio/wav.js';
import { VoiceError } from '../errors.js';
import type { LaneQueue, LivePriority } from './lanes.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from './llm/types.js';
import type { SttEngine, TranscribeOptions, Transcript } from './stt/types.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from './tts/types.js';
import type { EngineInfo, QueuedEngine } from './types.js';

/** One job an engine runs, as the health tracking sees it: `end` once it settled, with its error. */
export interface JobTicket {
  end(error?: unknown): void;
}

/** Told of every job an engine runs (stuck and failing engines are found from these). */
export interface JobWatch {
  begin(signal: AbortSignal | undefined): JobTicket;
}

const noWatch: JobWatch = { begin: () => ({ end: () => undefined }) };

/**
 * The engine contracts, checked where engine output enters the service: an engine bug (a delta
 * that is not text, audio at no sample rate or with non-finite samples) fails the job with
 * `engine_failed` instead of reaching a client or the history.
 */
function checkedEvent(event: LlmEvent, engine: string): LlmEvent {
  if ((event.type === 'delta' && typeof event.text === 'string') || event.type === 'done') return event;
  throw new VoiceError(
    'engine_failed',
    `${engine} sent an invalid event (${JSON.stringify(event).slice(0, 80)})`,
  );
}

function checkedChunk(chunk: TtsChunk, engine: string): TtsChunk {
  const { samples, sampleRate } = chunk;
  const valid =
    samples instanceof Float32Array &&
    Number.isInteger(sampleRate) &&
    sampleRate >= 4000 &&
    sampleRate <= 192_000 &&
    samples.every(Number.isFinite);
  if (valid) return chunk;
  throw new VoiceError(
    'engine_failed',
    `${engine} sent invalid audio (${samples?.length} samples at ${sampleRate} Hz)`,
  );
}

function checkedTranscript(transcript: Transcript, engine: string): Transcript {
  if (typeof transcript?.text === 'string' && Array.isArray(transcript.segments)) return transcript;
  throw new VoiceError('engine_failed', `${engine} returned an invalid transcript`);
}

/**
 * Releases a queue slot once: when the work ends, or as soon as its caller gives up on it. A job
 * that ignores its abort then no longer holds the queue (the engine's own native queue, if any,
 * still serializes; the health tracking reports the job that does not stop).
 */
function releaseOnce(release: () => void, signal: AbortSignal | undefined): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    signal?.removeEventListener('abort', once);
    release();
  };
  signal?.addEventListener('abort', once, { once: true });
  return once;
}

/**
 * The LLM behind a lane queue: a voice turn's answer (`live`) starts before queued HTTP answers
 * (`batch`); an answer holds its slot until its last token. `onStart` is called when it leaves the
 * queue, so a stage time limit does not count the wait.
 */
export class ScheduledLlm implements LlmEngine, QueuedEngine {
  constructor(
    readonly inner: LlmEngine,
    private readonly queue: LaneQueue,
    private readonly watch: JobWatch = noWatch,
  ) {}

  get info(): EngineInfo {
    return this.inner.info;
  }

  admitBatch(): void {
    this.queue.admitBatch();
  }

  async *chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
    const { signal } = options;
    const release = releaseOnce(
      await this.queue.acquire(options.priority ?? 'live', {
        signal,
        onQueued: options.onQueued,
        onStart: options.onStart,
      }),
      signal,
    );
    const ticket = this.watch.begin(signal);
    let error: unknown;
    try {
      for await (const event of this.inner.chat(messages, options))
        yield checkedEvent(event, this.info.engine);
    } catch (err) {
      error = err;
      throw err;
    } finally {
      ticket.end(error);
      release();
    }
  }

  /**
   * Only on an idle engine, holding it like a partial transcript does (lowest live lane): a
   * prefill is a guess, and never makes real work wait.
   */
  async prefill(messages: ChatMessage[], options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const inner = this.inner;
    if (!inner.prefill || !this.queue.isIdle || options.signal?.aborted) return false;
    return this.queue
      .run(
        'partial',
        () => inner.prefill!(messages, options),
        options.signal ? { signal: options.signal } : {},
      )
      .catch(() => false);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A voice behind a lane queue, one sentence at a time: a voice turn's next sentence goes before
 * queued sentences of HTTP requests, so a long `/tts` text never holds the voice for more than one
 * sentence. `onStart` is called as each sentence leaves the queue.
 */
export class ScheduledTts implements TtsEngine, QueuedEngine {
  constructor(
    readonly inner: TtsEngine,
    private readonly queue: LaneQueue,
    private readonly watch: JobWatch = noWatch,
  ) {}

  get info(): EngineInfo {
    return this.inner.info;
  }

  get language(): string {
    return this.inner.language;
  }

  admitBatch(): void {
    this.queue.admitBatch();
  }

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<TtsChunk> {
    const { signal } = options;
    const lane = options.priority ?? 'live';
    const sentences = this.inner.synthesize(text, options)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const release = releaseOnce(
          await this.queue.acquire(lane, { signal, onQueued: options.onQueued, onStart: options.onStart }),
          signal,
        );
        const ticket = this.watch.begin(signal);
        let step: IteratorResult<TtsChunk>;
        try {
          step = await sentences.next();
          if (!step.done) checkedChunk(step.value, this.info.engine);
          ticket.end();
        } catch (err) {
          ticket.end(err);
          throw err;
        } finally {
          release();
        }
        if (step.done) return;
        yield step.value;
      }
    } finally {
      // Not awaited: a voice that ignores its signal may never settle.
      void Promise.resolve(sentences.return?.()).catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Speech-to-text with its jobs watched and checked (whisper.cpp queues and prioritizes its own jobs). */
export class WatchedStt implements SttEngine, QueuedEngine {
  constructor(
    readonly inner: SttEngine,
    private readonly watch: JobWatch = noWatch,
  ) {}

  get info(): EngineInfo {
    return this.inner.info;
  }

  admitBatch(): void {
    (this.inner as Partial<QueuedEngine>).admitBatch?.();
  }

  useLivePriority(priority: LivePriority): void {
    (this.inner as Partial<QueuedEngine>).useLivePriority?.(priority);
  }

  async transcribe(audio: Audio, options: TranscribeOptions = {}): Promise<Transcript> {
    const ticket = this.watch.begin(options.signal);
    try {
      const transcript = checkedTranscript(await this.inner.transcribe(audio, options), this.info.engine);
      ticket.end();
      return transcript;
    } catch (err) {
      ticket.end(err);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
