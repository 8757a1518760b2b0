import type { Audio } from '../audio/wav.js';
import type { Config } from '../config.js';
import { abortReason, isAbortError, VoiceError } from '../errors.js';
import type { LlmEngine, LlmUsage } from '../engines/llm/types.js';
import type { SttEngine, TranscribeOptions, Transcript } from '../engines/stt/types.js';
import type { TtsEngine } from '../engines/tts/types.js';
import type { Logger } from '../log.js';
import { raceAbort } from '../pipeline/abortable.js';
import { streamAnswer } from '../pipeline/answer-stream.js';
import type { FillerBank } from '../pipeline/fillers.js';
import { sourcesOf, withPassages } from '../rag/prompt.js';
import type { Passage } from '../rag/types.js';
import type { CachedAudio, SentenceCache } from '../pipeline/sentence-cache.js';
import { StageTimer } from '../pipeline/stage-timer.js';
import type { TurnTimeline } from '../pipeline/timing.js';
import { encodeForWire, wireBytesPerSecond } from '../protocol/audio-format.js';
import { newId, type Dialect, type EmitEvent, type PartRef } from '../protocol/server-events.js';
import type { SessionSettings } from '../protocol/session-settings.js';
import { finalText } from '../turns/partial-transcript.js';
import type { PartialState } from '../turns/types.js';
import { PacedAudioOut } from './audio-out.js';
import { renderItem, type Conversation, type ConversationItem } from './conversation.js';

export type ResponseStatus = 'completed' | 'cancelled' | 'failed';

export interface ResponseEngines {
  stt: SttEngine;
  llm: LlmEngine;
  tts: TtsEngine;
}

export interface ResponseContext {
  engines: ResponseEngines;
  fillers: FillerBank | undefined;
  cache: SentenceCache;
  settings: SessionSettings;
  realtime: Config['realtime'];
  /** Longest wait in an engine's queue (the stage limits start when the work does). */
  queueTimeoutMs: number;
  /** How this session's turns are transcribed (encoder context, beam). */
  liveStt: Pick<TranscribeOptions, 'audioCtx' | 'beamSize'>;
  conversation: Conversation;
  dialect: Dialect;
  logger: Logger;
  /** Sends a server event (the session names it in the client's dialect). */
  emit: EmitEvent;
  /** Sends one chunk of output audio (a base64 delta, or a binary frame). */
  sendAudio: (chunk: Uint8Array, responseId: string, itemId: string) => void;
  /** Milliseconds of audio sent to the transport and not yet written to the network. */
  audioBacklogMs: () => number;
  onFirstAudio: () => void;
}

/** A user audio item whose transcript is still unknown, with its audio. */
export interface TranscriptionJob {
  item: ConversationItem;
  audio: Audio;
  /** The server VAD heard speech in it, so the STT need not look for speech again. */
  speechKnown: boolean;
  /** Its transcription, started while the turn was ending (speculative): reused, not redone. */
  transcript?: Promise<Transcript>;
  /** Its partial transcript, sent while it was spoken: the final transcript keeps those words. */
  partial?: PartialState;
}

export interface ResponseRequest {
  timeline: TurnTimeline;
  /** User audio items to transcribe first, oldest first (the turn that just ended is last). */
  transcribe?: TranscriptionJob[];
  instructions?: string;
  modalities?: ('audio' | 'text')[];
  maxOutputTokens?: number | 'inf';
  /** The knowledge base passages for the answer, asked once the user's words are known. */
  retrieve?: () => Promise<Passage[]>;
}

export interface ResponseResult {
  status: ResponseStatus;
  reason?: string;
  error?: VoiceError;
}

/**
 * One response, from the end of a turn to `response.done`: STT → LLM stream → sentences → TTS
 * → paced audio, with transcript deltas sent alongside their audio. `cancel()` stops every stage
 * at once; the assistant item then keeps only what the client is estimated to have played.
 */
export class RealtimeResponse {
  readonly id = newId('resp');
  private readonly controller = new AbortController();
  private readonly item: ConversationItem;
  private readonly audioOut: PacedAudioOut | undefined;
  private readonly modalities: ('audio' | 'text')[];
  private usage: LlmUsage = { promptTokens: 0, completionTokens: 0 };
  private answerAudioQueued = false;
  private cancelReason: string | undefined;
  /** The knowledge base passages the answer was prompted with, once retrieved. */
  passages: Passage[] = [];
  /** The same as the answer lists them (`x_sources`); undefined without a knowledge base. */
  private sources: { source: string; chunk_id: string }[] | undefined;
  private heardMs: number | undefined;
  private fillerTimer: NodeJS.Timeout | undefined;
  private readonly transcribed = new Set<TranscriptionJob>();
  private readonly previousItemId: string | null;
  readonly done: Promise<ResponseResult>;

  constructor(
    private readonly ctx: ResponseContext,
    private readonly request: ResponseRequest,
  ) {
    this.modalities = request.modalities ?? ctx.settings.outputModalities;
    const audio = this.modalities.includes('audio');
    const added = ctx.conversation.add('assistant', audio ? 'audio' : 'text', '', { status: 'in_progress' });
    this.item = added.item;
    this.previousItemId = added.previousItemId;
    if (audio) {
      const format = ctx.settings.outputFormat;
      this.audioOut = new PacedAudioOut({
        bytesPerSec: wireBytesPerSecond(format),
        bytesPerSample: format.type === 'audio/pcm' ? 2 : 1,
        chunkMs: ctx.realtime.audioChunkMs,
        leadMs: ctx.realtime.audioLeadMs,
        send: (chunk) => ctx.sendAudio(chunk, this.id, this.item.id),
        backlogMs: ctx.audioBacklogMs,
      });
    }
    request.timeline.mark('response_created');
    this.done = this.run();
  }

  get itemId(): string {
    return this.item.id;
  }

  /**
   * Stops everything now; `done` resolves with status `cancelled`. The item keeps the audio the
   * client says it played (`audioEndMs`, from a truncate), else the estimate of the pacer.
   */
  cancel(reason: string, audioEndMs?: number): void {
    if (this.controller.signal.aborted) return;
    this.cancelReason = reason;
    this.heardMs = audioEndMs;
    this.controller.abort(new VoiceError('aborted', `response cancelled (${reason})`));
    this.audioOut?.stop();
  }

  private async run(): Promise<ResponseResult> {
    const { ctx } = this;
    const responseShape = (status: string, extra: Record<string, unknown> = {}) => ({
      id: this.id,
      object: 'realtime.response',
      status,
      [this.modalitiesField()]: this.modalities,
      ...extra,
    });
    ctx.emit('response.created', { response: responseShape('in_progress', { output: [] }) });
    ctx.emit('response.output_item.added', {
      response_id: this.id,
      output_index: 0,
      item: this.rendered(),
    });
    ctx.emit('conversation.item.created', { previous_item_id: this.previousItemId, item: this.rendered() });
    ctx.emit('response.content_part.added', {
      response_id: this.id,
      item_id: this.item.id,
      output_index: 0,
      content_index: 0,
      part: this.audioOut ? { type: 'audio', transcript: '' } : { type: 'text', text: '' },
    });
    let result: ResponseResult;
    try {
      await Promise.resolve(); // the session adopts this response before its first audio goes out
      this.scheduleFiller();
      const text = await this.transcribe();
      if (text === '') {
        this.audioOut?.stop(); // no answer follows: the filler stops too
        result = { status: 'cancelled', reason: 'no_speech' };
      } else {
        const passages = await this.request.retrieve?.();
        this.sources = passages && sourcesOf(passages);
        this.passages = passages ?? [];
        await this.answer(this.passages);
        await this.audioOut?.drained();
        if (this.controller.signal.aborted) throw abortReason(this.controller.signal);
        result = { status: 'completed' };
      }
    } catch (err) {
      if (this.cancelReason !== undefined && isAbortError(err))
        result = { status: 'cancelled', reason: this.cancelReason };
      else {
        const error =
          err instanceof VoiceError
            ? err
            : new VoiceError('engine_failed', (err as Error).message, { cause: err });
        result = { status: 'failed', error };
        this.controller.abort(error);
        this.audioOut?.stop();
      }
    }
    this.finish(result);
    return result;
  }

  /** A filler starts when no answer audio is ready `fillerDelayMs` after the turn ended. */
  private scheduleFiller() {
    const { ctx } = this;
    if (!this.audioOut || !ctx.realtime.fillers || !ctx.fillers || ctx.settings.fillers === false) return;
    const play = () => {
      if (this.answerAudioQueued || this.controller.signal.aborted) return;
      // A turn transcribed while it ended (speculative) is answered soon: a short filler then.
      const near = (this.request.transcribe ?? []).some((job) => job.transcript !== undefined);
      const filler = ctx.fillers?.pick(ctx.settings.voice, near ? ctx.realtime.shortFillerMs : Infinity);
      if (!filler) return;
      ctx.fillers!.played++;
      this.queueAudio(filler, '');
    };
    // Without a delay the filler goes out now, before transcription starts its synchronous work.
    if (ctx.realtime.fillerDelayMs <= 0) play();
    else this.fillerTimer = setTimeout(play, ctx.realtime.fillerDelayMs);
  }

  /**
   * User audio items this response was cancelled before transcribing: the session hands them to
   * the next response, so words said just before an interruption still reach the LLM.
   */
  untranscribed(): TranscriptionJob[] {
    if (this.cancelReason === undefined) return [];
    return this.notTranscribed();
  }

  /** User audio items this response did not transcribe (whatever the reason it ended). */
  notTranscribed(): TranscriptionJob[] {
    return (this.request.transcribe ?? []).filter((job) => !this.transcribed.has(job));
  }

  /** Transcribes the pending user items in order; '' when none of them holds speech. */
  private async transcribe(): Promise<string> {
    const jobs = this.request.transcribe;
    if (!jobs || jobs.length === 0) return 'text';
    let text = '';
    for (const job of jobs) text += await this.transcribeOne(job);
    this.request.timeline.mark('stt_done');
    return text;
  }

  private async transcribeOne(job: TranscriptionJob): Promise<string> {
    const { ctx } = this;
    const stage = new StageTimer(this.controller.signal, ctx.realtime.sttTimeoutMs);
    stage.arm('transcription');
    const fresh = () =>
      ctx.engines.stt.transcribe(job.audio, {
        ...ctx.liveStt,
        language: ctx.settings.language,
        signal: stage.signal,
        speechKnown: job.speechKnown,
      });
    try {
      // A speculative transcript that failed is redone once, as if there had been none.
      const transcript = await raceAbort(
        job.transcript
          ? job.transcript.catch((err: unknown) => {
              if (stage.signal.aborted) throw err;
              return fresh();
            })
          : fresh(),
        stage.signal,
      );
      this.transcribed.add(job);
      // The deltas a client received add up to the transcript it is given.
      const { text, rest } = finalText(transcript, job.partial);
      job.item.text = text;
      ctx.conversation.touch(job.item);
      if (rest !== '')
        ctx.emit('conversation.item.input_audio_transcription.delta', {
          item_id: job.item.id,
          content_index: 0,
          delta: rest,
        });
      ctx.emit('conversation.item.input_audio_transcription.completed', {
        item_id: job.item.id,
        content_index: 0,
        transcript: text,
      });
      return text.trim();
    } catch (err) {
      if (stage.signal.aborted && !this.controller.signal.aborted) throw abortReason(stage.signal);
      throw err;
    } finally {
      stage.dispose();
    }
  }

  /** The LLM's answer: text deltas (text modality), or each sentence's audio queued as it is ready. */
  private async answer(passages: Passage[]): Promise<void> {
    const { ctx, request } = this;
    const instructions = request.instructions ?? ctx.settings.instructions;
    const maxTokens = request.maxOutputTokens ?? ctx.settings.maxOutputTokens;
    const stream = streamAnswer({
      llm: ctx.engines.llm,
      tts: this.audioOut ? ctx.engines.tts : undefined,
      // The assistant item being written is last in the conversation and empty: not in the prompt.
      messages: withPassages(ctx.conversation.messages(instructions), passages, ctx.settings.language),
      signal: this.controller.signal,
      maxTokens: maxTokens === 'inf' ? undefined : maxTokens,
      temperature: ctx.settings.temperature,
      voice: ctx.settings.voice,
      speed: ctx.settings.speed,
      cache: ctx.cache,
      firstClauseMinChars: ctx.realtime.firstClauseMinChars,
      firstTokenTimeoutMs: ctx.realtime.firstTokenTimeoutMs,
      ttsTimeoutMs: ctx.realtime.ttsTimeoutMs,
      queueTimeoutMs: ctx.queueTimeoutMs,
      timeline: request.timeline,
    });
    for await (const event of stream) {
      if (event.type === 'done') this.usage = event.usage;
      else if (event.type === 'audio') {
        this.answerAudioQueued = true;
        this.queueAudio(event.audio, event.text);
      } else if (!this.audioOut) {
        this.item.text += event.delta;
        ctx.emit('response.output_text.delta', this.partRef({ delta: event.delta }));
      }
    }
  }

  /** Encodes audio for the wire and queues it; its transcript goes out when its first byte does. */
  private queueAudio(audio: CachedAudio, text: string) {
    const { ctx, request } = this;
    const bytes = encodeForWire(audio.samples, audio.sampleRate, ctx.settings.outputFormat);
    const durationMs = (bytes.length * 1000) / wireBytesPerSecond(ctx.settings.outputFormat);
    this.audioOut!.enqueue({
      bytes,
      onStart: () => {
        const startMs = this.audioOut!.sentMs;
        this.item.spans.push({ text, startMs, endMs: startMs + durationMs });
        this.item.audioMs = startMs + durationMs;
        if (!request.timeline.has('first_audio_sent')) {
          request.timeline.mark('first_audio_sent');
          ctx.onFirstAudio();
        }
        if (text === '') return;
        request.timeline.mark('first_answer_audio_sent');
        const delta = (this.item.text ? ' ' : '') + text;
        this.item.text += delta;
        ctx.emit('response.output_audio_transcript.delta', this.partRef({ delta }));
      },
    });
  }

  /** The beta protocol names the response's modalities `modalities`. */
  private modalitiesField(): 'modalities' | 'output_modalities' {
    return this.ctx.dialect === 'beta' ? 'modalities' : 'output_modalities';
  }

  private rendered() {
    return renderItem(this.item, this.ctx.dialect);
  }

  private partRef<F extends object>(fields: F): PartRef & F {
    return { response_id: this.id, item_id: this.item.id, output_index: 0, content_index: 0, ...fields };
  }

  private finish(result: ResponseResult) {
    const { ctx, request } = this;
    clearTimeout(this.fillerTimer);
    if (result.status === 'completed') this.item.status = 'completed';
    else {
      this.item.status = 'incomplete';
      if (this.audioOut) {
        const played = Math.min(this.heardMs ?? this.audioOut.playedMs(), this.item.audioMs);
        const by = this.heardMs === undefined ? 'estimate' : 'client';
        // By estimate, what a later truncate may still claim is the audio really sent.
        const sentMs = by === 'estimate' ? this.audioOut.sentMs : Infinity;
        this.item.text = ctx.conversation.truncate(this.item.id, Math.floor(played), by, sentMs).text;
      }
    }
    ctx.conversation.touch(this.item);
    if (this.audioOut && this.item.audioMs > 0) request.timeline.mark('last_audio_sent');
    request.timeline.mark('done');
    if (this.audioOut) {
      ctx.emit('response.output_audio.done', this.partRef({}));
      ctx.emit('response.output_audio_transcript.done', this.partRef({ transcript: this.item.text }));
      ctx.emit(
        'response.content_part.done',
        this.partRef({ part: { type: 'audio', transcript: this.item.text } }),
      );
    } else {
      ctx.emit('response.output_text.done', this.partRef({ text: this.item.text }));
      ctx.emit('response.content_part.done', this.partRef({ part: { type: 'text', text: this.item.text } }));
    }
    ctx.emit('response.output_item.done', {
      response_id: this.id,
      output_index: 0,
      item: this.rendered(),
    });
    const statusDetails =
      result.status === 'completed'
        ? null
        : result.status === 'cancelled'
          ? { type: 'cancelled', reason: result.reason }
          : {
              type: 'failed',
              error: { type: 'server_error', code: result.error!.code, message: result.error!.message },
            };
    const { promptTokens, completionTokens } = this.usage;
    ctx.emit('response.done', {
      response: {
        id: this.id,
        object: 'realtime.response',
        status: result.status,
        status_details: statusDetails,
        [this.modalitiesField()]: this.modalities,
        output: [this.rendered()],
        usage: {
          total_tokens: promptTokens + completionTokens,
          input_tokens: promptTokens,
          output_tokens: completionTokens,
        },
        x_timings: request.timeline.toJSON(),
        ...(this.sources ? { x_sources: this.sources } : {}),
      },
    });
  }
}
