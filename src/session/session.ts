import type { Config } from '../config.js';
import type { VoiceError, ErrorCode } from '../errors.js';
import type { EngineSet } from '../engines/types.js';
import type { Logger } from '../log.js';
import type { TurnMetrics } from '../metrics/registry.js';
import type { FillerBank } from '../pipeline/fillers.js';
import { withPassages } from '../rag/prompt.js';
import type { Retrieval } from '../rag/retrieval.js';
import type { Passage } from '../rag/types.js';
import { SessionKnowledge } from './knowledge.js';
import { AnswerPrefill } from './prefill.js';
import type { SentenceCache } from '../pipeline/sentence-cache.js';
import { TurnTimeline } from '../pipeline/timing.js';
import { WireDecoder, wireBytesPerSecond, wireRate } from '../protocol/audio-format.js';
import { ClientEventError, decodeAudioBase64, type ClientEvent } from '../protocol/client-events.js';
import {
  eventName,
  serverEvent,
  type Dialect,
  type ServerEvent,
  type ServerEventFields,
  type ServerEventType,
} from '../protocol/server-events.js';
import {
  applySessionPatch,
  defaultSettings,
  renderSession,
  type SessionSettings,
} from '../protocol/session-settings.js';
import { renderItem, Conversation, type ConversationItem } from './conversation.js';
import type { ConversationSync } from './persistence.js';
import { newSessionId, sessionTag } from '../store/session-id.js';
import { TurnInput } from '../turns/turn-input.js';
import type { TurnEnded, TurnListener, TurnStarted } from '../turns/types.js';
import { ClientSession } from './client-session.js';
import { AudioRateLimiter } from './audio-rate.js';
import { RealtimeResponse, type ResponseRequest, type TranscriptionJob } from './response.js';
import { SessionStateMachine } from './state.js';

export interface SessionTransport {
  sendJson(event: ServerEvent): void;
  sendBinary(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes sent but not yet written to the network (WebSocket `bufferedAmount`). */
  bufferedBytes?(): number;
}

export interface SessionDeps {
  engines: EngineSet;
  fillers: FillerBank | undefined;
  cache: SentenceCache;
  config: Config;
  logger: Logger;
  transport: SessionTransport;
  dialect: Dialect;
  /** Reported as the session's model. */
  model: string;
  /** The session id: given to continue a stored conversation, else a new one. */
  id?: string;
  /** Saves the conversation (and holds the items of the one it continues). */
  persistence?: ConversationSync;
  metrics?: TurnMetrics;
  /** The conversation and settings of a session this one takes over (it then says `session.updated`). */
  carried?: CarriedSession;
  /**
   * A stage (STT, LLM, TTS) failed or timed out mid-turn; true when another backend answers the
   * turn (the session then sends no error of its own: the failover reports).
   */
  onStageFailure?: (failure: StageFailure) => boolean;
  /** Where messages go that arrive after the session was detached. */
  reroute?: (data: Buffer | string, isBinary: boolean) => void;
  /** The session object says `x_backend: "local"` (when a fallback upstream could serve it instead). */
  announceBackend?: boolean;
  /** The knowledge base answers draw on (absent: no passages). */
  rag?: Retrieval | undefined;
}

export interface CarriedSession {
  conversation: Conversation;
  settings: SessionSettings;
}

export interface StageFailure {
  error: VoiceError;
  /** User audio items not transcribed: the failed turn's own when STT is what failed. */
  untranscribed: TranscriptionJob[];
}

/** Codes of a stage that failed, as opposed to a client's mistake or a cancel. */
const FAILOVER_CODES = new Set<ErrorCode>(['engine_failed', 'engine_unavailable', 'engine_busy', 'timeout']);

/** Settings carried from another backend, with a voice this server has. */
function localSettings(settings: SessionSettings, engines: EngineSet): SessionSettings {
  return engines.voices.has(settings.voice) ? settings : { ...settings, voice: engines.defaultVoice };
}

/** Input shorter than this is not a turn (OpenAI's commit minimum). */
const MIN_COMMIT_MS = 100;

/**
 * One real-time conversation over one WebSocket: client events in, server events out, in order.
 * Every client event gets its defined answer or an `error` event; nothing a client sends closes
 * the session or loses its history.
 */
export class RealtimeSession extends ClientSession {
  readonly id: string;
  readonly state = new SessionStateMachine();
  readonly conversation: Conversation;
  private settings: SessionSettings;
  /** Hearing: input audio, VAD and the end-of-turn strategy; rebuilt when its settings change. */
  private turns!: TurnInput;
  private response: RealtimeResponse | undefined;
  private readonly knowledge: SessionKnowledge | undefined;
  private readonly prefill: AnswerPrefill | undefined;
  /** An `x_speech_onset` went out; its `speech_started` or `x_speech_onset_dropped` has not. */
  private onsetSent = false;
  /**
   * User audio items not transcribed yet, oldest first: committed without a response, created by
   * the client, or left by a response cancelled before it transcribed them.
   */
  private untranscribed: TranscriptionJob[] = [];
  private readonly audioRate: AudioRateLimiter;
  /** Input audio dropped for arriving too fast, in seconds (reported in its error events). */
  private droppedAudioSec = 0;
  private lastAudioRateError = -Infinity;
  readonly log: Logger;

  constructor(private readonly deps: SessionDeps) {
    super(deps.config, deps.transport, deps.reroute, deps.metrics);
    this.id = deps.id ?? newSessionId();
    this.knowledge = deps.rag
      ? new SessionKnowledge(deps.rag, {
          minWords: deps.config.rag.prefetchMinWords,
          budgetMs: deps.config.rag.budgetMs,
        })
      : undefined;
    this.log = deps.logger.child({ session: sessionTag(this.id) });
    this.prefill = deps.config.llm.prefill ? AnswerPrefill.for(deps.engines.llm, this.log) : undefined;
    if (deps.carried) {
      this.conversation = deps.carried.conversation;
      this.settings = localSettings(deps.carried.settings, deps.engines);
    } else {
      this.conversation = new Conversation();
      for (const item of deps.persistence?.loaded ?? [])
        this.conversation.add(item.role, 'text', item.text, { id: item.id });
      this.settings = defaultSettings(
        deps.config,
        deps.engines.defaultVoice,
        deps.engines.turn !== undefined,
      );
    }
    this.audioRate = new AudioRateLimiter(
      deps.config.realtime.maxAudioSpeed,
      deps.config.realtime.audioBurstSec,
    );
    this.resetInput();
    this.state.onChange((from, to, reason) => this.log.debug({ from, to, reason }, 'session state'));
    if (deps.carried) this.emit('session.updated', { session: this.renderSession() });
    else this.emit('session.created', { session: this.renderSession() });
  }

  /** What a session serving this conversation elsewhere (the fallback upstream) carries over. */
  carry(): CarriedSession {
    return { conversation: this.conversation, settings: this.settings };
  }

  /**
   * Another backend takes this conversation over: this session stops without closing the socket.
   * Messages still in its inbox go to `reroute`, in order.
   */
  detach(): void {
    this.close();
  }

  protected get binaryAudio(): boolean {
    return this.settings.binaryAudio;
  }

  protected onAudio(bytes: Uint8Array, arrivedAt: number): Promise<void> {
    return this.appendAudio(bytes, arrivedAt);
  }

  protected onEvent(event: ClientEvent, arrivedAt: number): Promise<void> {
    return this.dispatch(event, arrivedAt);
  }

  protected override afterMessage(): void {
    this.persist();
  }

  /** The client went away: stop the response, forget the audio. */
  close(): void {
    if (this.closed) return;
    this.persist();
    this.closed = true;
    this.turns.close();
    this.knowledge?.close();
    this.prefill?.drop();
    this.stopInbound();
    this.response?.cancel('client_disconnected');
  }

  /** Settles when the current response (if any) has ended. */
  async idle(): Promise<void> {
    await this.inbox.drain();
    while (this.response) await this.response.done;
  }

  private async dispatch(event: ClientEvent, arrivedAt: number): Promise<void> {
    switch (event.type) {
      case 'session.update': {
        const next = applySessionPatch(
          this.settings,
          event.session,
          { has: (id) => this.deps.engines.voices.has(id), default: this.deps.engines.defaultVoice },
          defaultSettings(this.deps.config, this.deps.engines.defaultVoice).turnDetection!,
          this.deps.engines.turn !== undefined,
        );
        const inputChanged =
          JSON.stringify(next.inputFormat) !== JSON.stringify(this.settings.inputFormat) ||
          JSON.stringify(next.turnDetection) !== JSON.stringify(this.settings.turnDetection) ||
          next.language !== this.settings.language;
        this.settings = next;
        if (inputChanged) this.resetInput();
        this.emit('session.updated', { session: this.renderSession() });
        return;
      }
      case 'input_audio_buffer.append':
        return this.appendAudio(decodeAudioBase64(event.audio), arrivedAt);
      case 'input_audio_buffer.commit':
        return this.commit(event.event_id);
      case 'input_audio_buffer.clear':
        this.resetInput();
        if (this.state.state === 'user_speaking') this.state.to('listening', 'input cleared');
        this.emit('input_audio_buffer.cleared');
        return;
      case 'conversation.item.create':
        return this.createItem(event);
      case 'conversation.item.truncate':
        return this.truncate(event.item_id, event.audio_end_ms);
      case 'conversation.item.delete':
        if (this.response?.itemId === event.item_id) await this.stopResponse('item_deleted');
        this.conversation.delete(event.item_id);
        this.untranscribed = this.untranscribed.filter((job) => job.item.id !== event.item_id);
        this.emit('conversation.item.deleted', { item_id: event.item_id });
        return;
      case 'conversation.item.retrieve':
        this.emit('conversation.item.retrieved', {
          item: renderItem(this.conversation.get(event.item_id), this.deps.dialect),
        });
        return;
      case 'response.create': {
        if (this.response)
          throw new ClientEventError(
            'conversation_already_has_active_response',
            `response ${this.response.id} is in progress; cancel it first or wait for response.done`,
          );
        const r = event.response;
        const modalities = r?.output_modalities ?? r?.modalities;
        this.startResponse({
          timeline: new TurnTimeline(),
          ...(r?.instructions !== undefined ? { instructions: r.instructions } : {}),
          ...(modalities ? { modalities } : {}),
          ...(r?.max_output_tokens !== undefined ? { maxOutputTokens: r.max_output_tokens } : {}),
        });
        return;
      }
      case 'response.cancel':
        if (!this.response || (event.response_id !== undefined && event.response_id !== this.response.id))
          throw new ClientEventError('response_cancel_not_active', 'no response in progress to cancel');
        return this.stopResponse('client_cancelled');
      case 'output_audio_buffer.clear':
        if (this.response) await this.stopResponse('client_cleared');
        this.emit('output_audio_buffer.cleared');
        return;
    }
  }

  private async appendAudio(bytes: Uint8Array, arrivedAt: number): Promise<void> {
    const sec = bytes.length / wireBytesPerSecond(this.settings.inputFormat);
    if (!this.audioRate.take(sec, arrivedAt)) {
      this.droppedAudioSec += sec;
      // One error a second at most, with the total, rather than one per dropped frame.
      if (arrivedAt - this.lastAudioRateError >= 1000) {
        this.lastAudioRateError = arrivedAt;
        const { maxAudioSpeed } = this.deps.config.realtime;
        this.error(
          'input_audio_rate_exceeded',
          `input audio arrives faster than ${maxAudioSpeed}× real time; ${this.droppedAudioSec.toFixed(2)} s dropped so far`,
        );
      }
      return;
    }
    const dropped = await this.turns.append(bytes);
    if (dropped > 0)
      this.error(
        'input_audio_buffer_full',
        `input buffer over ${this.deps.config.realtime.maxBufferedAudioSec} s; the oldest audio was dropped`,
      );
  }

  /** What hearing tells this session: a turn started, paused, resumed or ended. */
  private readonly hearing: TurnListener = {
    speechStarted: (turn) => this.onSpeechStarted(turn),
    turnEnded: (turn) => this.onTurnEnded(turn),
    turnPaused: (itemId) => this.log.debug({ item: itemId }, 'turn paused'),
    turnResumed: (itemId, pausedMs) => {
      this.prefill?.drop();
      this.deps.metrics?.turnResumed();
      this.log.debug({ item: itemId, pausedMs }, 'turn resumed: speculative work dropped');
    },
    voiceOnset: (audioStartMs) => {
      // Only while an answer plays: what the client pauses; the answer itself goes on.
      if (!this.response || !this.settings.turnDetection?.interruptResponse) return;
      this.onsetSent = true;
      this.emit('input_audio_buffer.x_speech_onset', { audio_start_ms: audioStartMs });
    },
    voiceOnsetDropped: (audioEndMs) => {
      if (!this.onsetSent) return;
      this.onsetSent = false;
      this.emit('input_audio_buffer.x_speech_onset_dropped', { audio_end_ms: audioEndMs });
    },
    turnGuessed: (itemId, text, draft) => this.onTurnGuessed(itemId, text, draft),
    partialTranscript: (itemId, delta) => {
      this.emit('conversation.item.input_audio_transcription.delta', {
        item_id: itemId,
        content_index: 0,
        delta,
      });
    },
  };

  private async onSpeechStarted({ itemId, audioStartMs }: TurnStarted): Promise<void> {
    this.onsetSent = false;
    this.emit('input_audio_buffer.speech_started', { audio_start_ms: audioStartMs, item_id: itemId });
    if (this.response && this.settings.turnDetection?.interruptResponse)
      await this.stopResponse('turn_detected');
    if (this.state.state === 'listening' || this.state.state === 'interrupted')
      this.state.to('user_speaking', 'speech started');
  }

  /** What the turn would be if it ended now: its passages are searched and its answer's prompt prefilled. */
  private onTurnGuessed(itemId: string, text: string, draft: boolean): void {
    this.log.debug({ item: itemId, chars: text.length, draft }, 'turn guessed');
    const knowledge = this.knowledge;
    const passages = knowledge ? knowledge.guess(itemId, text, draft) : Promise.resolve([]);
    // Only for a turn answered as soon as it ends, with nothing else to answer first.
    if (!passages || !this.prefill || !this.settings.turnDetection?.createResponse) return;
    if (this.response || this.untranscribed.length > 0) return;
    // The conversation as it is now: once the turn ends it holds the turn itself.
    const messages = this.conversation.messages(this.settings.instructions, text);
    const { language } = this.settings;
    this.prefill.start(
      itemId,
      passages.then((p) => withPassages(messages, p, language)),
    );
  }

  /**
   * An answer from passages was heard to its end: the next turn is likely on the same topic, so
   * the conversation so far with the same passages is prefilled now, while the user thinks (the
   * CPU is idle then). A next turn that finds the same passages only adds its own words.
   */
  private prefillNextTurn(passages: Passage[]): void {
    if (!this.prefill || passages.length === 0 || this.turns.turnOpen) return;
    if (!this.settings.turnDetection?.createResponse || this.untranscribed.length > 0) return;
    const messages = this.conversation.messages(this.settings.instructions);
    messages.push({ role: 'user', content: '' });
    this.prefill.start(
      'next turn',
      Promise.resolve(withPassages(messages, passages, this.settings.language)),
    );
  }

  private async onTurnEnded(turn: TurnEnded): Promise<void> {
    this.emit('input_audio_buffer.speech_stopped', { audio_end_ms: turn.audioEndMs, item_id: turn.itemId });
    this.deps.metrics?.turnEnded(turn.reason);
    const item = this.commitAudio(turn.audio.samples, turn.itemId);
    const job: TranscriptionJob = {
      item,
      audio: turn.audio,
      speechKnown: true,
      ...(turn.transcript ? { transcript: turn.transcript } : {}),
      ...(turn.partial ? { partial: turn.partial } : {}),
    };
    if (this.settings.turnDetection?.createResponse)
      await this.respondToTurn(job, new TurnTimeline(undefined, turn.endedAt));
    else {
      this.untranscribed.push(job);
      if (this.state.state === 'user_speaking') this.state.to('listening', 'turn committed, no response');
    }
  }

  private async commit(eventId?: string): Promise<void> {
    const held = this.turns.buffer.durationMs;
    if (held < MIN_COMMIT_MS)
      throw new ClientEventError(
        'input_audio_buffer_commit_empty',
        `buffer too small: ${Math.round(held)} ms of audio; at least ${MIN_COMMIT_MS} ms is needed`,
        eventId,
      );
    const rate = this.turns.rate;
    const { audio, itemId, partial } = this.turns.take();
    const item = this.commitAudio(audio, itemId);
    // The VAD and the buffer restart together, so their sample positions stay the same.
    this.resetInput();
    const job: TranscriptionJob = {
      item,
      audio: { samples: audio, sampleRate: rate },
      speechKnown: false,
      ...(partial ? { partial } : {}),
    };
    if (this.settings.turnDetection?.createResponse)
      await this.respondToTurn(job, new TurnTimeline(undefined, performance.now()));
    else {
      this.untranscribed.push(job);
      if (this.state.state === 'user_speaking') this.state.to('listening', 'committed');
    }
  }

  private commitAudio(audio: Float32Array, id: string | undefined): ConversationItem {
    const { item, previousItemId } = this.conversation.add('user', 'audio', '', id ? { id } : {});
    this.emit('input_audio_buffer.committed', { previous_item_id: previousItemId, item_id: item.id });
    this.emit('conversation.item.created', {
      previous_item_id: previousItemId,
      item: renderItem(item, this.deps.dialect),
    });
    return item;
  }

  /**
   * A new user turn needs an answer. A response still running is cancelled first when the turn
   * may interrupt it; otherwise the new answer waits for it to end.
   */
  private async respondToTurn(job: TranscriptionJob, timeline: TurnTimeline): Promise<void> {
    if (!this.response) return this.startResponse({ timeline, transcribe: [job] });
    if (this.settings.turnDetection?.interruptResponse ?? true) {
      await this.stopResponse('turn_detected');
      if (!this.closed) this.startResponse({ timeline, transcribe: [job] });
      return;
    }
    // Not interrupting: the turn waits for the current answer to end, with any other turn that
    // ends meanwhile; the inbox goes on.
    this.untranscribed.push(job);
    this.after(this.response.done, 'queued turn', () => {
      if (!this.closed && !this.response && this.untranscribed.length > 0) this.startResponse({ timeline });
    });
  }

  private startResponse(request: ResponseRequest): void {
    const transcribe = [...this.untranscribed, ...(request.transcribe ?? [])];
    this.untranscribed = [];
    if (transcribe.length > 0) request = { ...request, transcribe };
    const knowledge = this.knowledge;
    if (knowledge) {
      const spoken = transcribe.at(-1)?.item.id;
      const timeline = request.timeline;
      // The query is the user's last message once transcribed (a spoken turn, or a typed one).
      request.retrieve = () => {
        const last = this.conversation.all().findLast((i) => i.role === 'user' && i.text.trim() !== '');
        return knowledge.passages(spoken, last?.text ?? '', timeline);
      };
    }
    const voice = this.deps.engines.voices.get(this.settings.voice)!;
    const response = new RealtimeResponse(
      {
        engines: { stt: this.deps.engines.stt, llm: this.deps.engines.llm, tts: voice },
        fillers: this.deps.fillers,
        cache: this.deps.cache,
        settings: this.settings,
        realtime: this.deps.config.realtime,
        queueTimeoutMs: this.deps.config.engines.queueTimeoutMs,
        liveStt: { audioCtx: this.deps.config.stt.liveAudioCtx, beamSize: this.deps.config.stt.liveBeamSize },
        conversation: this.conversation,
        dialect: this.deps.dialect,
        logger: this.log,
        emit: (type, fields) => this.emit(type, fields),
        sendAudio: (chunk, responseId, itemId) => this.sendAudio(chunk, responseId, itemId),
        audioBacklogMs: () => this.audioBacklogMs(),
        onFirstAudio: () => {
          if (this.response === response && this.state.state === 'thinking')
            this.state.to('speaking', 'first audio');
        },
      },
      request,
    );
    this.response = response;
    if (this.state.state !== 'user_speaking' || !this.turns.turnOpen)
      this.state.to('thinking', 'response started');
    this.after(response.done, 'response done', (result) => {
      if (this.response === response) this.response = undefined;
      this.untranscribed.unshift(...response.untranscribed());
      const timings = request.timeline.toJSON();
      this.persist();
      this.deps.metrics?.turn('realtime', timings, result.status);
      this.log.info(
        { turn: response.id, status: result.status, code: result.error?.code, timings: timings.marks },
        'turn done',
      );
      if (result.error && !this.handedOver(result.error, response))
        this.error(result.error.code, result.error.message, undefined, undefined, 'server_error');
      if (this.response) return;
      if (result.status === 'completed') this.prefillNextTurn(response.passages);
      if (this.turns.turnOpen) {
        if (this.state.state !== 'user_speaking')
          this.state.to(
            this.state.can('user_speaking') ? 'user_speaking' : 'listening',
            'response ended during speech',
          );
      } else if (this.state.state !== 'listening') this.state.to('listening', `response ${result.status}`);
    });
  }

  /** A stage failed mid-turn: the failover (when configured) answers the turn elsewhere. */
  private handedOver(error: VoiceError, response: RealtimeResponse): boolean {
    if (!FAILOVER_CODES.has(error.code) || !this.deps.onStageFailure || this.closed) return false;
    return this.deps.onStageFailure({
      error,
      untranscribed: [...response.notTranscribed(), ...this.untranscribed],
    });
  }

  /**
   * Runs `then` when `promise` settles, outside the inbox. A throw there is a bug (a refused state
   * transition): it must not become an unhandled rejection that ends the process and every other
   * session, so it is logged, the client gets `internal_error`, and the state is set from facts.
   */
  private after<T>(promise: Promise<T>, what: string, then: (value: T) => void): void {
    promise.then(then).catch((err: unknown) => {
      this.log.error(
        { err: (err as Error).message, stack: (err as Error).stack, what },
        'session bug; recovering',
      );
      if (this.closed) return;
      this.error(
        'internal_error',
        `the server hit a bug after ${what}; the session goes on`,
        undefined,
        undefined,
        'server_error',
      );
      if (!this.response)
        this.state.reset(this.turns.turnOpen ? 'user_speaking' : 'listening', `recovery after ${what}`);
    });
  }

  /** Cancels the running response and waits for its `response.done`. */
  private async stopResponse(reason: string, audioEndMs?: number): Promise<void> {
    const response = this.response;
    if (!response) return;
    if (this.state.can('interrupted')) this.state.to('interrupted', reason);
    if (reason !== 'client_disconnected') this.deps.metrics?.interruption();
    response.cancel(reason, audioEndMs);
    await response.done;
  }

  private async truncate(itemId: string, audioEndMs: number): Promise<void> {
    const item = this.conversation.get(itemId);
    this.conversation.checkTruncate(item, audioEndMs);
    if (this.response?.itemId === itemId) await this.stopResponse('client_truncated', audioEndMs);
    this.conversation.truncate(item.id, audioEndMs);
    this.emit('conversation.item.truncated', { item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
  }

  private createItem(event: Extract<ClientEvent, { type: 'conversation.item.create' }>): void {
    const { item: input } = event;
    let text = '';
    let audio: Float32Array | undefined;
    for (const part of input.content) {
      if (part.type === 'input_audio') {
        audio = new WireDecoder(this.settings.inputFormat).decode(decodeAudioBase64(part.audio));
        text += part.transcript ?? '';
      } else text += 'text' in part ? part.text : (part.transcript ?? '');
    }
    const { maxItemChars } = this.deps.config.store;
    if (text.length > maxItemChars)
      throw new ClientEventError(
        'item_too_large',
        `the item holds ${text.length} characters of text; the limit is ${maxItemChars}`,
        event.event_id,
        'item.content',
      );
    const modality =
      audio || input.content.some((p) => p.type === 'audio' || p.type === 'output_audio') ? 'audio' : 'text';
    const { item, previousItemId } = this.conversation.add(input.role, modality, text, {
      ...(input.id ? { id: input.id } : {}),
      ...(event.previous_item_id !== undefined ? { previousItemId: event.previous_item_id } : {}),
    });
    if (audio && text === '' && input.role === 'user')
      this.untranscribed.push({
        item,
        audio: { samples: audio, sampleRate: wireRate(this.settings.inputFormat) },
        speechKnown: false,
      });
    this.emit('conversation.item.created', {
      previous_item_id: previousItemId,
      item: renderItem(item, this.deps.dialect),
    });
  }

  private resetInput() {
    this.turns?.close();
    const { config, engines } = this.deps;
    this.turns = new TurnInput(
      {
        detection: this.settings.turnDetection,
        inputFormat: this.settings.inputFormat,
        language: this.settings.language,
        stt: { audioCtx: config.stt.liveAudioCtx, beamSize: config.stt.liveBeamSize },
        maxBufferedAudioSec: config.realtime.maxBufferedAudioSec,
        minSpeechMs: config.vad.minSpeechMs,
        pauseMs: config.turns.pauseMs,
        speculative: config.turns.speculative,
        fallbackSilenceMs: config.vad.minSilenceMs,
        ...(config.turns.partialIntervalMs > 0
          ? { partials: { intervalMs: config.turns.partialIntervalMs } }
          : {}),
      },
      {
        vad: engines.vad,
        stt: engines.stt,
        turn: engines.turn,
        logger: this.log,
        listener: this.hearing,
        schedule: (job) => void this.inbox.run(() => this.runScheduled(job)),
      },
    );
  }

  /** Background results (the end-of-turn model, a speculative transcript) decide in event order. */
  private async runScheduled(job: () => Promise<void>): Promise<void> {
    if (this.closed) return;
    try {
      await job();
    } catch (err) {
      this.reportError(err, undefined);
    }
    this.persist();
  }

  /**
   * The transport's unsent bytes as milliseconds of output audio: base64 in JSON takes 4/3 of the
   * audio's bytes (plus a little per event, so this slightly overestimates; binary frames 1).
   */
  private audioBacklogMs(): number {
    const bytes = this.deps.transport.bufferedBytes?.() ?? 0;
    if (bytes === 0) return 0;
    const wirePerAudioByte = this.settings.binaryAudio ? 1 : 4 / 3;
    return (bytes / wirePerAudioByte / wireBytesPerSecond(this.settings.outputFormat)) * 1000;
  }

  private sendAudio(chunk: Uint8Array, responseId: string, itemId: string) {
    if (this.closed) return;
    if (this.settings.binaryAudio) this.deps.transport.sendBinary(chunk);
    else
      this.emit('response.output_audio.delta', {
        response_id: responseId,
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64'),
      });
  }

  private renderSession() {
    const session = renderSession(this.id, this.deps.model, this.settings, this.deps.dialect);
    return this.deps.announceBackend ? { ...session, x_backend: 'local' } : session;
  }

  private emit<K extends ServerEventType>(type: K, ...rest: OptionalFields<K>) {
    const fields: Record<string, unknown> = rest[0] ?? {};
    if (this.closed) return;
    this.deps.transport.sendJson(serverEvent(eventName(type, this.deps.dialect), fields));
  }

  /** Applies the conversation's caps (the client is told of each removed item), then saves what changed. */
  private persist() {
    const { maxItems, maxChars } = this.deps.config.store;
    const evicted = this.conversation.evict(maxItems, maxChars);
    if (evicted.length > 0) {
      const gone = new Set(evicted.map((i) => i.id));
      this.untranscribed = this.untranscribed.filter((job) => !gone.has(job.item.id));
      for (const item of evicted) this.emit('conversation.item.deleted', { item_id: item.id });
      this.log.debug({ evicted: evicted.length }, 'conversation over its limits: oldest items removed');
    }
    this.deps.persistence?.sync(this.conversation.takeChanges());
  }
}

/** Events without fields (`input_audio_buffer.cleared`) need none. */
type OptionalFields<K extends ServerEventType> =
  ServerEventFields[K] extends Record<string, never>
    ? [fields?: ServerEventFields[K]]
    : [fields: ServerEventFields[K]];
