import { resample } from '../audio/resample.js';
import type { SttEngine, TranscribeOptions } from '../engines/stt/types.js';
import type { TurnEngine } from '../engines/turn/types.js';
import { VadSegmenter } from '../engines/vad/segmenter.js';
import type { VadEngine, VadEvent } from '../engines/vad/types.js';
import type { Logger } from '../log.js';
import { WireDecoder, wireRate, type WireAudioFormat } from '../protocol/audio-format.js';
import { newId } from '../protocol/server-events.js';
import type { TurnDetection } from '../protocol/session-settings.js';
import { InputAudioBuffer } from './input-buffer.js';
import { manual } from './manual.js';
import { finalText, PartialTranscriber } from './partial-transcript.js';
import { semanticVad } from './semantic-vad.js';
import { serverVad } from './server-vad.js';
import { SpeculativeTranscript } from './speculative.js';
import type { EndOfTurnStrategy, PauseView, TurnListener } from './types.js';

const MODEL_WINDOW_SEC = 8;
const MODEL_RATE = 16000;

export interface TurnInputOptions {
  detection: TurnDetection | null;
  inputFormat: WireAudioFormat;
  language: string;
  /** How live turns are transcribed (encoder context, beam). */
  stt: Pick<TranscribeOptions, 'audioCtx' | 'beamSize'>;
  maxBufferedAudioSec: number;
  minSpeechMs: number;
  /** `semantic_vad`: VAD silence that makes a pause. */
  pauseMs: number;
  speculative: boolean;
  /** server_vad's silence: used when the end-of-turn model fails. */
  fallbackSilenceMs: number;
  /** Partial transcripts while the user speaks, every `intervalMs` of new audio; off if absent. */
  partials?: { intervalMs: number };
}

export interface TurnInputDeps {
  vad: VadEngine;
  stt: SttEngine;
  /** Absent: `semantic_vad` runs as `server_vad` (the session says so in its settings). */
  turn: TurnEngine | undefined;
  logger: Logger;
  listener: TurnListener;
  /** Runs a job in the session's event order (background results re-decide there). */
  schedule: (job: () => Promise<void>) => void;
}

type Phase = 'idle' | 'speaking' | 'paused';

/**
 * Hearing: the session's input audio, its VAD, and the end-of-turn strategy. `append` takes wire
 * bytes; the listener hears `speechStarted` once per turn and `turnEnded` when the strategy ends
 * it. A pause that the user talks through is dropped without a trace: its model call and
 * speculative transcript are abandoned and no event leaves.
 */
export class TurnInput {
  readonly buffer: InputAudioBuffer;
  readonly strategy: EndOfTurnStrategy;
  private readonly decoder: WireDecoder;
  private readonly segmenter: VadSegmenter | undefined;
  private phase: Phase = 'idle';
  private itemId: string | undefined;
  /** Where the turn starts (prefix padding included) and its speech last ended, in input samples. */
  private turnStart = 0;
  private speechEnd = 0;
  private pausedAt = 0;
  private pauses = 0;
  private speculative: SpeculativeTranscript | undefined;
  private partial: PartialTranscriber | undefined;
  /** Between the VAD's first silent frame and speech again (or the pause): no partials then. */
  private inSilence = false;
  private maxSilenceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: TurnInputOptions,
    private readonly deps: TurnInputDeps,
  ) {
    const rate = wireRate(options.inputFormat);
    this.decoder = new WireDecoder(options.inputFormat);
    this.buffer = new InputAudioBuffer(rate, options.maxBufferedAudioSec * rate);
    this.strategy = this.chooseStrategy();
    const td = options.detection;
    this.segmenter =
      td && this.strategy.pauseMs !== undefined
        ? new VadSegmenter(
            deps.vad,
            {
              threshold: td.threshold,
              minSpeechMs: options.minSpeechMs,
              minSilenceMs: this.strategy.pauseMs,
              prefixPaddingMs: td.prefixPaddingMs,
              reportOnsets: td.speechOnset,
            },
            rate,
          )
        : undefined;
  }

  get rate(): number {
    return this.buffer.rate;
  }

  /** True from a turn's first speech until it ends, pauses included. */
  get turnOpen(): boolean {
    return this.phase !== 'idle';
  }

  /** The item id announced with speech_started, while a turn is open. */
  get currentItemId(): string | undefined {
    return this.itemId;
  }

  /** Decodes and appends wire audio; returns how many old samples the buffer dropped. */
  async append(bytes: Uint8Array): Promise<number> {
    const samples = this.decoder.decode(bytes);
    if (samples.length === 0) return 0;
    const dropped = this.buffer.append(samples);
    if (!this.segmenter) return dropped;
    for (const event of await this.segmenter.push(samples)) await this.onVad(event);
    if (this.phase === 'speaking' && !this.inSilence) this.runPartial();
    if (this.phase === 'paused') await this.evaluate();
    if (this.phase === 'idle') this.trimIdleAudio();
    return dropped;
  }

  /** The client commits (manual turns, or before the VAD ended the turn): all audio held. */
  take(): { audio: Float32Array; itemId: string | undefined; partial: PartialTranscriber | undefined } {
    const itemId = this.itemId;
    const partial = this.endPartials();
    this.abandonPause();
    this.itemId = undefined;
    this.phase = 'idle';
    return { audio: this.buffer.take(), itemId, partial };
  }

  close(): void {
    this.closed = true;
    this.endPartials();
    this.abandonPause();
  }

  private endPartials(): PartialTranscriber | undefined {
    const partial = this.partial;
    partial?.stop();
    this.partial = undefined;
    this.inSilence = false;
    return partial;
  }

  /** Transcribes the turn so far when it has grown enough; stable words go out as deltas. */
  private runPartial() {
    const partial = this.partial;
    const itemId = this.itemId;
    if (!partial || !itemId) return;
    const from = this.turnStart;
    partial.maybeRun(
      () => ({ samples: this.buffer.peek(from), sampleRate: this.rate }),
      this.buffer.end - from,
      this.rate,
      (t) =>
        this.deps.schedule(() => {
          if (!this.closed && this.partial === partial) {
            const delta = partial.accept(t);
            if (delta) this.deps.listener.partialTranscript?.(itemId, delta);
            // Each draft is a guess at the whole turn, long before the pause's transcript.
            const draft = partial.draftText;
            if (draft) this.deps.listener.turnGuessed?.(itemId, draft, true);
          }
          return Promise.resolve();
        }),
    );
  }

  private chooseStrategy(): EndOfTurnStrategy {
    const td = this.options.detection;
    if (!td) return manual;
    if (td.type === 'semantic_vad' && this.deps.turn)
      return semanticVad({
        engine: this.deps.turn,
        eagerness: td.eagerness,
        pauseMs: this.options.pauseMs,
        speculative: this.options.speculative,
        language: this.options.language,
        fallbackSilenceMs: this.options.fallbackSilenceMs,
        logger: this.deps.logger,
      });
    return serverVad(td.silenceDurationMs);
  }

  private ms(samples: number): number {
    return Math.round((samples * 1000) / this.rate);
  }

  private async onVad(event: VadEvent): Promise<void> {
    if (event.type === 'onset' || event.type === 'onset_dropped') {
      // Between turns only: a pause within a turn is the strategy's business.
      if (this.phase !== 'idle') return;
      if (event.type === 'onset') this.deps.listener.voiceOnset?.(this.ms(event.sample));
      else this.deps.listener.voiceOnsetDropped?.(this.ms(event.sample));
      return;
    }
    if (event.type === 'speech_start') {
      if (this.phase === 'paused') {
        const pausedMs = this.ms(this.buffer.end - this.speechEnd);
        this.abandonPause();
        this.phase = 'speaking';
        this.inSilence = false;
        this.deps.listener.turnResumed?.(this.itemId!, pausedMs);
        return;
      }
      this.phase = 'speaking';
      this.inSilence = false;
      this.itemId = newId('item');
      this.partial?.stop();
      this.partial = this.options.partials
        ? new PartialTranscriber(this.deps.stt, {
            language: this.options.language,
            intervalMs: this.options.partials.intervalMs,
          })
        : undefined;
      this.turnStart = event.paddedStartSample;
      await this.deps.listener.speechStarted({
        itemId: this.itemId,
        audioStartMs: this.ms(event.paddedStartSample),
      });
      return;
    }
    if (this.phase !== 'speaking') return;
    if (event.type !== 'speech_end') {
      // Transcription starts with the silence, not once it is long enough to be a pause: the
      // transcript is what the end of a turn waits for. Speech again drops it.
      this.inSilence = event.type === 'silence_started';
      // The final transcription needs the engine more than a partial does.
      if (this.inSilence) this.partial?.hold();
      if (event.type === 'silence_started' && this.strategy.speculative) this.speculate();
      else {
        this.speculative?.drop();
        this.speculative = undefined;
      }
      return;
    }
    this.phase = 'paused';
    this.inSilence = false;
    this.partial?.hold();
    this.speechEnd = event.endSample;
    this.pausedAt = performance.now();
    const pause = ++this.pauses;
    const wake = () =>
      this.deps.schedule(async () => {
        if (!this.closed && this.phase === 'paused' && this.pauses === pause) await this.evaluate();
      });
    if (this.strategy.speculative) (this.speculative ?? this.speculate()).onSettled(wake);
    this.deps.listener.turnPaused?.(this.itemId!);
    if (Number.isFinite(this.strategy.maxSilenceMs)) {
      // Clients that stop sending audio still get their turn ended.
      const wallMs = this.strategy.maxSilenceMs - (this.strategy.pauseMs ?? 0);
      this.maxSilenceTimer = setTimeout(wake, Math.max(0, wallMs) + 5);
      this.maxSilenceTimer.unref();
    }
    this.strategy.paused(this.view(), wake);
  }

  /** Transcribes the turn so far (it holds all of the speech: a silence has begun). */
  private speculate(): SpeculativeTranscript {
    this.speculative?.drop();
    const speculative = new SpeculativeTranscript(
      this.deps.stt,
      { samples: this.buffer.peek(this.turnStart), sampleRate: this.rate },
      { language: this.options.language, ...this.options.stt },
    );
    this.speculative = speculative;
    const itemId = this.itemId!;
    speculative.promise.then(
      (transcript) =>
        this.deps.schedule(() => {
          // Still this turn's latest pause: not resumed, not ended, not replaced.
          if (!this.closed && this.speculative === speculative) {
            const { text } = finalText(transcript, this.partial);
            if (text !== '') this.deps.listener.turnGuessed?.(itemId, text, false);
          }
          return Promise.resolve();
        }),
      () => undefined,
    );
    return speculative;
  }

  private view(): PauseView {
    const audioSilence = this.ms(this.buffer.end - this.speechEnd);
    const wallSilence = performance.now() - this.pausedAt + (this.strategy.pauseMs ?? 0);
    const speculative = this.speculative;
    return {
      silenceMs: Math.max(audioSilence, wallSilence),
      audio16k: () => {
        const from = Math.max(this.turnStart, this.buffer.end - MODEL_WINDOW_SEC * this.rate);
        const audio = this.buffer.peek(from);
        return this.rate === MODEL_RATE ? audio : resample(audio, this.rate, MODEL_RATE);
      },
      transcript: () => speculative?.result,
      transcribing: () => speculative !== undefined && !speculative.settled,
    };
  }

  private async evaluate(): Promise<void> {
    const decision = this.strategy.decide(this.view());
    if (!decision.end) return;
    const endedAt = performance.now();
    const itemId = this.itemId!;
    const audio = this.buffer.take(this.turnStart, this.buffer.end);
    const transcript = this.speculative?.promise;
    this.speculative = undefined;
    const partial = this.endPartials();
    this.abandonPause();
    this.phase = 'idle';
    this.itemId = undefined;
    await this.deps.listener.turnEnded({
      itemId,
      audio: { samples: audio, sampleRate: this.rate },
      endedAt,
      audioEndMs: this.ms(this.speechEnd),
      reason: decision.reason,
      ...(transcript ? { transcript } : {}),
      ...(partial ? { partial } : {}),
    });
  }

  /** Forgets the pause being judged: its speculative transcript and its timer. */
  private abandonPause() {
    clearTimeout(this.maxSilenceTimer);
    this.maxSilenceTimer = undefined;
    if (this.phase === 'paused') this.strategy.resumed();
    this.speculative?.drop();
    this.speculative = undefined;
  }

  /**
   * Outside speech only the last moments can still become part of a turn (prefix padding plus the
   * speech the VAD needs before it reports a start); older audio is dropped, in large steps.
   */
  private trimIdleAudio() {
    const ms = (this.options.detection?.prefixPaddingMs ?? 0) + this.options.minSpeechMs + 1000;
    const keep = Math.ceil((ms * this.rate) / 1000);
    if (this.buffer.held > 4 * keep) this.buffer.discardBefore(this.buffer.end - keep);
  }
}
