import type { Audio } from '../../audio/wav.js';
import { float32ToInt16, activeLevelDbfs } from '../../audio/pcm.js';
import { resample } from '../../audio/resample.js';
import { VoiceError, abortReason, throwIfAborted } from '../../errors.js';
import type { Logger } from '../../log.js';
import { LaneQueue, type Lane, type LivePriority } from '../lanes.js';
import { loadedInfo, type EngineInfo, type EngineLoadOptions, type QueuedEngine } from '../types.js';
import { detectSpeech } from '../vad/segmenter.js';
import type { SegmenterOptions, VadEngine } from '../vad/types.js';
import { filterHallucination } from './hallucination.js';
import { fitsOneWindow, joinTurns, splitTurns } from './live-batch.js';
import type { SttEngine, Transcript, TranscribeOptions } from './types.js';
import {
  loadCudaAddon,
  loadHostAddon,
  type NativeTranscribeOptions,
  type NativeTranscribeResult,
  type NativeWhisperContext,
  type NativeWhisperModule,
} from './whisper-native.js';

const WHISPER_RATE = 16000;

type NativeParams = Omit<NativeTranscribeOptions, 'maxThreads'> & { language: string };

/** Voice turns waiting together for one window (see live-batch.ts). */
interface LiveBatch {
  params: NativeParams;
  members: {
    samples: Float32Array;
    signal: AbortSignal;
    onStart: (() => void) | undefined;
    resolve: (r: NativeTranscribeResult) => void;
    reject: (err: unknown) => void;
  }[];
  started: boolean;
  /** Aborted when every turn of the batch was dropped: the native job then stops. */
  stop: AbortController;
}
/** whisper.cpp encoder positions per second of audio (1500 for the 30 s window). */
const CTX_PER_SEC = 50;
const FULL_CTX = 1500;

export type AudioCtxSetting = 'auto' | 'full' | number;

export interface WhisperOptions extends EngineLoadOptions {
  language: string;
  audioCtx: AudioCtxSetting;
  /** Beam search width; 1 = greedy decoding. */
  beamSize?: number;
  timeoutMs: number;
  /** File jobs that may wait before `admitBatch` refuses more (`engine_busy`). */
  maxBatchWaiting?: number;
  /** When set, audio this VAD finds no speech in is never decoded. */
  vad?: { engine: VadEngine; options: SegmenterOptions };
  /** Two voice turns waiting at once share one window (live-batch.ts); `stt.liveBatching`. */
  batchLive?: boolean;
}

/**
 * Encoder context for an utterance under `auto`: its length plus one second, at least 750
 * positions (15 s). Whisper is trained on 30 s windows; on the French commands (2 to 5 s) the
 * encoder context trades speed for accuracy like this (bench/audio-ctx.ts, 2 cores, base q5_1):
 * full 1500: WER 23.0 %, 3.4 s; 1000: 23.0 %, 2.0 s; 750: 24.1 %, 1.35 s; 500: 24.7 %, 0.96 s.
 * 750 keeps most of the speed-up with a margin on accuracy.
 */
export function autoAudioCtx(durationSec: number): number {
  const frames = Math.ceil((durationSec + 1) * CTX_PER_SEC);
  return Math.min(FULL_CTX, Math.max(AUTO_MIN_CTX, frames));
}
export const AUTO_MIN_CTX = 750;

export function resolveAudioCtx(setting: AudioCtxSetting, durationSec: number): number {
  if (setting === 'full') return FULL_CTX;
  if (setting === 'auto') return durationSec >= 29 ? FULL_CTX : autoAudioCtx(durationSec);
  return setting;
}

/**
 * whisper.cpp in-process (@fugood/whisper.node, built for the host CPU by scripts/build-whisper.sh).
 * The model is loaded once; one whisper state runs one job at a time, so jobs queue. Aborting a
 * job stops whisper.cpp between two graph nodes (see the build script's patches) and rejects at
 * once; the next job waits for the native side to settle.
 */
export class WhisperStt implements SttEngine, QueuedEngine {
  private readonly jobs: LaneQueue;
  private closed = false;
  /** The batch of live turns still waiting in the queue, which one more turn may join. */
  private openBatch: LiveBatch | undefined;
  /** Windows that carried two voice turns, and pairs Whisper ran together (then redone one by one). */
  readonly liveBatches = { joint: 0, redone: 0 };

  private constructor(
    private readonly ctx: NativeWhisperContext,
    readonly info: EngineInfo,
    private readonly options: WhisperOptions,
  ) {
    this.jobs = new LaneQueue({ name: 'whisper.cpp', maxBatchWaiting: options.maxBatchWaiting });
  }

  admitBatch(): void {
    this.jobs.admitBatch();
  }

  /** Waits of whisper's own queue (one state, one job at a time). */
  get waits(): LaneQueue['waits'] {
    return this.jobs.waits;
  }

  useLivePriority(priority: LivePriority): void {
    this.jobs.useLivePriority(priority);
  }

  static load(modelPath: string, modelId: string, options: WhisperOptions): WhisperStt {
    throwIfAborted(options.signal);
    const started = performance.now();
    let device = options.device;
    let fallbackReason: string | undefined;
    let mod: NativeWhisperModule | undefined;
    if (device === 'cuda') {
      try {
        mod = loadCudaAddon();
      } catch (err) {
        fallbackReason = `CUDA build of whisper.cpp not available (${(err as Error).message.split('\n')[0]})`;
        options.logger.warn({ engine: 'whisper', reason: fallbackReason }, 'STT falls back to CPU');
        device = 'cpu';
      }
    }
    try {
      mod ??= loadHostAddon();
    } catch (err) {
      throw new VoiceError('engine_unavailable', (err as Error).message, { cause: err });
    }
    routeNativeLog(mod, options.logger);
    let ctx: NativeWhisperContext;
    try {
      ctx = new mod.WhisperContext({ filePath: modelPath, useGpu: device === 'cuda' });
    } catch (err) {
      throw new VoiceError(
        'engine_unavailable',
        `whisper.cpp cannot load ${modelPath}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const info = loadedInfo('whisper.cpp', modelId, options, device, started, fallbackReason);
    return new WhisperStt(ctx, info, options);
  }

  async transcribe(audio: Audio, opts: TranscribeOptions = {}): Promise<Transcript> {
    if (this.closed) throw new VoiceError('engine_unavailable', 'whisper engine is closed');
    const started = performance.now();
    // The time limit of the decoding itself starts when the job leaves the queue (runExclusive).
    const signal = opts.signal ?? new AbortController().signal;
    throwIfAborted(signal);
    const language = opts.language ?? this.options.language;
    const samples =
      audio.sampleRate === WHISPER_RATE
        ? audio.samples
        : resample(audio.samples, audio.sampleRate, WHISPER_RATE);
    const audioSec = samples.length / WHISPER_RATE;
    if (samples.length === 0) throw new VoiceError('empty_audio', 'no audio samples to transcribe');
    const audioCtx = resolveAudioCtx(opts.audioCtx ?? this.options.audioCtx, audioSec);
    const beamSize = opts.beamSize ?? this.options.beamSize ?? 1;
    const timing = { audioSec, vadMs: 0, decodeMs: 0, totalMs: 0, rtf: 0, audioCtx };
    const finish = (t: Omit<Transcript, 'timing'>): Transcript => {
      timing.totalMs = performance.now() - started;
      timing.rtf = timing.totalMs / 1000 / audioSec;
      return { ...t, timing };
    };

    if (this.options.vad && !opts.speechKnown) {
      const v0 = performance.now();
      const speech = await detectSpeech(
        this.options.vad.engine,
        samples,
        WHISPER_RATE,
        this.options.vad.options,
        signal,
      );
      timing.vadMs = performance.now() - v0;
      if (speech.length === 0) return finish({ text: '', language, segments: [], dropped: 'no_speech' });
    }

    const d0 = performance.now();
    const params: NativeParams = {
      language,
      audioCtx,
      beamSize,
      ...(opts.translate ? { translate: true } : {}),
      ...(opts.draftMaxTokens ? { maxTokens: opts.draftMaxTokens, temperatureInc: 0 } : {}),
    };
    const lane = opts.priority ?? 'live';
    const result = await (lane === 'live' && this.options.batchLive && !opts.translate && !opts.draftMaxTokens
      ? this.runLive(samples, params, signal, opts.onStart)
      : this.runExclusive(samples, params, signal, lane, opts.onStart));
    timing.decodeMs = performance.now() - d0;
    const level = activeLevelDbfs(samples, WHISPER_RATE);
    const { text, dropped } = filterHallucination(result.result, level);
    const segments = dropped
      ? []
      : result.segments
          .map((s) => ({
            startSec: s.t0 / 1000,
            endSec: Math.min(audioSec, s.t1 / 1000),
            text: filterHallucination(s.text, level).text,
          }))
          .filter((s) => s.text !== '');
    return finish({
      text,
      language: result.language ?? language,
      segments,
      ...(dropped ? { dropped: 'hallucination' as const } : {}),
    });
  }

  /**
   * A live turn: joins the turn waiting for Whisper when one waits with the same settings and both
   * fit one window, else waits as the first of a new batch. The batch runs as one native job;
   * each turn's promise rejects at once on its own abort, and the job stops only when all did.
   */
  private runLive(
    samples: Float32Array,
    params: NativeParams,
    signal: AbortSignal,
    onStart: (() => void) | undefined,
  ): Promise<NativeTranscribeResult> {
    return new Promise((resolve, reject) => {
      const member = { samples, signal, onStart, resolve, reject };
      const open = this.openBatch;
      const first = open?.members[0];
      let batch = open;
      if (
        open &&
        first &&
        !open.started &&
        !open.stop.signal.aborted &&
        open.members.length === 1 &&
        JSON.stringify(open.params) === JSON.stringify(params) &&
        fitsOneWindow(
          first.samples.length / WHISPER_RATE,
          samples.length / WHISPER_RATE,
          params.audioCtx ?? 0,
        )
      ) {
        open.members.push(member);
        this.openBatch = undefined;
      } else {
        batch = { params, members: [member], started: false, stop: new AbortController() };
        this.openBatch = batch;
        this.runBatch(batch);
      }
      const joined = batch!;
      signal.addEventListener(
        'abort',
        () => {
          reject(abortReason(signal));
          if (joined.members.every((m) => m.signal.aborted)) joined.stop.abort(abortReason(signal));
        },
        { once: true },
      );
    });
  }

  private runBatch(batch: LiveBatch): void {
    let running: LiveBatch['members'] = [];
    const samples = () => {
      running = batch.members.filter((m) => !m.signal.aborted);
      const [a, b] = running;
      return b ? joinTurns(a!.samples, b.samples, WHISPER_RATE) : a!.samples;
    };
    const onStart = () => {
      batch.started = true;
      if (this.openBatch === batch) this.openBatch = undefined;
      for (const m of batch.members) if (!m.signal.aborted) m.onStart?.();
    };
    this.runExclusive(samples, batch.params, batch.stop.signal, 'live', onStart).then(
      (result) => {
        const [a, b] = running;
        if (!b) return a?.resolve(result);
        this.liveBatches.joint++;
        const parts = splitTurns(result, a!.samples.length / WHISPER_RATE);
        if (parts) {
          a!.resolve(parts[0]);
          b.resolve(parts[1]);
          return;
        }
        // Whisper ran the two turns into one another: each alone, first in the queue.
        this.liveBatches.redone++;
        for (const m of running)
          this.runExclusive(m.samples, batch.params, m.signal, 'live', undefined, true).then(
            m.resolve,
            m.reject,
          );
      },
      (err: unknown) => {
        for (const m of batch.members) m.reject(err);
      },
    );
  }

  /**
   * Runs one native job after the previous one has settled, live jobs first; rejects at once on
   * abort. The time limit starts when the job leaves the queue. A batch job that a live job
   * preempts is stopped and run again, first of the batch lane.
   */
  private runExclusive(
    samples: Float32Array | (() => Float32Array),
    params: NativeParams,
    signal: AbortSignal,
    lane: Lane,
    onStart?: () => void,
    front = false,
  ): Promise<NativeTranscribeResult> {
    let limitMs = 0;
    const run = this.jobs.run(
      lane,
      async (slot) => {
        throwIfAborted(signal);
        // A batch of live turns is put together when it leaves the queue (see runLive).
        const audio = typeof samples === 'function' ? samples() : samples;
        const pcm = float32ToInt16(audio);
        // A longer window may take longer, more so while the CPU is shared: twice its duration more.
        limitMs = Math.round(this.options.timeoutMs + (2 * audio.length * 1000) / WHISPER_RATE);
        const timeout = AbortSignal.timeout(limitMs);
        const job = this.ctx.transcribeData(pcm.buffer as ArrayBuffer, {
          ...params,
          // A partial leaves a core to the VAD and the event loop: their lag would delay the turn.
          maxThreads: lane === 'partial' ? Math.max(1, this.options.threads - 1) : this.options.threads,
        });
        let preempted = false;
        const stop = () => void Promise.resolve(job.stop()).catch(() => undefined);
        slot.onPreempt = () => {
          preempted = true;
          stop();
        };
        signal.addEventListener('abort', stop, { once: true });
        timeout.addEventListener('abort', stop, { once: true });
        try {
          return { result: await job.promise, preempted, timedOut: timeout.aborted };
        } catch (err) {
          // A stopped job may reject ("Transcription cancelled") instead of resolving as aborted.
          if (!preempted && !timeout.aborted && !signal.aborted) throw err;
          const stopped: NativeTranscribeResult = { result: '', segments: [], isAborted: true };
          return { result: stopped, preempted, timedOut: timeout.aborted };
        } finally {
          signal.removeEventListener('abort', stop);
          timeout.removeEventListener('abort', stop);
        }
      },
      { front, onStart },
    );
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (fn: () => void) => {
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      run.then(
        ({ result, preempted, timedOut }) => {
          if (preempted && !signal.aborted && result.isAborted && lane === 'batch')
            return settle(() => resolve(this.runExclusive(samples, params, signal, lane, undefined, true)));
          if (!result.isAborted) return settle(() => resolve(result));
          settle(() =>
            reject(
              signal.aborted
                ? abortReason(signal)
                : timedOut
                  ? new VoiceError('timeout', `transcription ran longer than ${limitMs} ms`)
                  : new VoiceError(
                      'aborted',
                      preempted ? 'transcription stepped aside for a live turn' : 'transcription stopped',
                    ),
            ),
          );
        },
        (err: unknown) =>
          settle(() =>
            reject(
              signal.aborted
                ? abortReason(signal)
                : new VoiceError('engine_failed', `whisper.cpp failed: ${(err as Error).message}`, {
                    cause: err,
                  }),
            ),
          ),
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.jobs.drain();
    await this.ctx.release();
  }
}

let routedLogger: Logger | undefined;
/** whisper.cpp logs to stderr unless a callback is installed; route it to debug level instead. */
function routeNativeLog(mod: NativeWhisperModule, logger: Logger) {
  if (routedLogger) return;
  routedLogger = logger;
  mod.WhisperContext.toggleNativeLog(true, (level, text) => {
    // "failed to encode/decode" is how whisper.cpp reports an aborted job: expected, not a warning.
    if (level === 'error' && !/failed to (en|de)code/.test(text))
      logger.warn({ engine: 'whisper', native: text.trim() }, 'whisper.cpp');
    else logger.trace({ engine: 'whisper', native: text.trim() }, 'whisper.cpp');
  });
}
