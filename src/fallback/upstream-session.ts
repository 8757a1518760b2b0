import type { Config } from '../config.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { TurnMetrics } from '../metrics/registry.js';
import { checkAudioBase64, decodeAudioBase64, type ClientEvent } from '../protocol/client-events.js';
import { eventName, serverEvent, type Dialect } from '../protocol/server-events.js';
import {
  applySessionPatch,
  defaultSettings,
  OPENAI_VOICES,
  renderSession,
  type SessionSettings,
} from '../protocol/session-settings.js';
import { Conversation } from '../session/conversation.js';
import { ClientSession } from '../session/client-session.js';
import type { ConversationSync } from '../session/persistence.js';
import type { TranscriptionJob } from '../session/response.js';
import type { CarriedSession, SessionTransport } from '../session/session.js';
import { sessionTag } from '../store/session-id.js';
import { base64Bytes, InboundAudio, OutboundAudio, upstreamAudioMs } from './audio-bridge.js';
import type { FallbackMetrics } from './metrics.js';
import type { FallbackReason } from './policy.js';
import { replayEvents, upstreamSessionUpdate } from './replay.js';
import {
  UpstreamRealtime,
  type UpstreamEvent,
  type UpstreamHandlers,
  type UpstreamLink,
} from './upstream-client.js';
import { UpstreamMirror } from './upstream-mirror.js';

export interface UpstreamSessionDeps {
  config: Config;
  logger: Logger;
  transport: SessionTransport;
  dialect: Dialect;
  id: string;
  reason: FallbackReason;
  /** The conversation and settings of the local session this one takes over. */
  carried?: CarriedSession;
  /** The turn the local session failed on: its audio (when not transcribed) is sent, then answered. */
  failedTurn?: { untranscribed: TranscriptionJob[] };
  persistence?: ConversationSync;
  metrics?: FallbackMetrics;
  /** Counts the errors the client is sent. */
  errors?: Pick<TurnMetrics, 'error'>;
  /** The local voices, so a session can keep (or pick) one to come back to. */
  voices: { has(id: string): boolean };
  /** The upstream could not be reached, or went away: the host decides what serves the session next. */
  onLost(error: VoiceError, carried: CarriedSession): void;
  /** Where messages go that arrive after the session stopped. */
  reroute?: (data: Buffer | string, isBinary: boolean) => void;
  /** An upstream answer ended (the host may take the session back to the local engines). */
  onAnswerDone?: () => void;
  /** Opens the upstream (the real client unless a test swaps it). */
  connect?: (handlers: UpstreamHandlers) => Promise<UpstreamLink>;
}

/**
 * A real-time session served by the fallback upstream (the OpenAI Realtime API or a server that
 * speaks it): the client's events are checked here as the local session checks them, converted
 * (audio to PCM16 24 kHz, binary frames, the beta dialect) and relayed; the upstream's events go
 * back in the client's dialect and format. The conversation is mirrored here, so it is stored,
 * and can be carried back to a local session, as the local one was carried here.
 */
export class UpstreamSession extends ClientSession {
  readonly id: string;
  readonly log: Logger;
  readonly conversation: Conversation;
  private settings: SessionSettings;
  private readonly mirror: UpstreamMirror;
  private upstream: UpstreamLink | undefined;
  private audioIn: InboundAudio;
  private audioOut: OutboundAudio;
  /** The response in progress upstream: its id, when it began, whether audio came. */
  private active: { id: string; from: number; firstAudio: boolean } | undefined;
  private activeEnded: (() => void) | undefined;
  private activeDone: Promise<void> = Promise.resolve();
  /** When the last user turn ended (or a response was asked for): the start of first-audio latency. */
  private turnEndedAt: number | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: UpstreamSessionDeps) {
    super(deps.config, deps.transport, deps.reroute, deps.errors);
    this.id = deps.id;
    this.log = deps.logger.child({ session: sessionTag(this.id), backend: 'openai' });
    const { config } = deps;
    if (deps.carried) {
      this.conversation = deps.carried.conversation;
      this.settings = deps.carried.settings;
    } else {
      this.conversation = new Conversation();
      for (const item of deps.persistence?.loaded ?? [])
        this.conversation.add(item.role, 'text', item.text, { id: item.id });
      this.settings = defaultSettings(config, config.fallback.realtime.voice, true);
    }
    this.mirror = new UpstreamMirror(this.conversation);
    this.audioIn = new InboundAudio(this.settings.inputFormat);
    this.audioOut = new OutboundAudio(this.settings.outputFormat);
    void this.inbox.run(() => this.open());
  }

  protected get binaryAudio(): boolean {
    return this.settings.binaryAudio;
  }

  protected onAudio(bytes: Uint8Array): void {
    this.appendAudio(bytes);
  }

  protected onEvent(event: ClientEvent): void {
    this.dispatch(event);
  }

  /** The client went away (or the session ends): the upstream is closed, the conversation saved. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.upstream?.close();
    this.persist();
    this.activeEnded?.();
  }

  /** Settles when the response in progress upstream (if any) has ended. */
  async idle(): Promise<void> {
    await this.inbox.drain();
    await this.activeDone;
  }

  carry(): CarriedSession {
    return { conversation: this.conversation, settings: this.settings };
  }

  /** Another backend takes the conversation over: the upstream is closed, the socket is not. */
  detach(): void {
    this.close();
  }

  /** Connects, sets the session up upstream, replays the conversation, answers a failed turn. */
  private async open(): Promise<void> {
    const { config, carried, failedTurn } = this.deps;
    const handlers: UpstreamHandlers = {
      event: (event) => this.onUpstream(event),
      lost: (error) => this.lose(error),
    };
    try {
      this.upstream = await (this.deps.connect?.(handlers) ??
        UpstreamRealtime.connect(config.fallback.realtime, handlers, this.log));
    } catch (err) {
      const error = err instanceof VoiceError ? err : new VoiceError('fallback_unavailable', String(err));
      this.log.warn({ code: error.code, reason: this.deps.reason }, 'fallback upstream unavailable');
      this.deps.metrics?.fallbackFailed(error.code);
      return this.lose(error);
    }
    if (this.closed) return this.upstream.close();
    this.upstream.send(upstreamSessionUpdate(this.settings, config.fallback.realtime));
    const replay = replayEvents(
      this.conversation,
      failedTurn?.untranscribed ?? [],
      config.fallback.realtime.dialect,
    );
    for (const event of replay) {
      this.mirror.known.add((event.item as { id: string }).id);
      this.upstream.send(event);
    }
    this.deps.metrics?.fallbackSession(this.deps.reason);
    this.log.info(
      { reason: this.deps.reason, replayed: replay.length, answering: failedTurn !== undefined },
      'session served by the fallback upstream',
    );
    this.emit(carried ? 'session.updated' : 'session.created', { session: this.renderSession() });
    if (failedTurn) {
      this.turnEndedAt = performance.now();
      this.upstream.send({ type: 'response.create' });
    }
  }

  private dispatch(event: ClientEvent): void {
    const upstream = this.upstream!;
    switch (event.type) {
      case 'session.update': {
        const before = this.settings;
        this.settings = applySessionPatch(
          this.settings,
          event.session,
          { has: (id) => OPENAI_VOICES.has(id) || this.deps.voices.has(id), default: before.voice },
          defaultSettings(this.deps.config, before.voice).turnDetection!,
        );
        if (JSON.stringify(before.inputFormat) !== JSON.stringify(this.settings.inputFormat))
          this.audioIn = new InboundAudio(this.settings.inputFormat);
        if (JSON.stringify(before.outputFormat) !== JSON.stringify(this.settings.outputFormat))
          this.audioOut = new OutboundAudio(this.settings.outputFormat);
        upstream.send(upstreamSessionUpdate(this.settings, this.deps.config.fallback.realtime));
        this.emit('session.updated', { session: this.renderSession() });
        return;
      }
      case 'input_audio_buffer.append':
        // The upstream's own format: the client's base64 goes on as it came, checked, not re-encoded.
        if (this.audioIn.passThrough) {
          checkAudioBase64(event.audio);
          if (event.audio !== '') upstream.send(event);
          return;
        }
        return this.appendAudio(decodeAudioBase64(event.audio));
      case 'conversation.item.create': {
        const content = event.item.content.map((part) =>
          part.type === 'input_audio'
            ? {
                ...part,
                audio: Buffer.from(this.convertClip(decodeAudioBase64(part.audio))).toString('base64'),
              }
            : part,
        );
        upstream.send({ ...event, item: { ...event.item, content } });
        return;
      }
      case 'output_audio_buffer.clear':
        // A WebRTC event upstream: over a WebSocket the answer is stopped with response.cancel.
        if (this.active) upstream.send({ type: 'response.cancel' });
        this.emit('output_audio_buffer.cleared', {});
        return;
      case 'response.create':
      case 'input_audio_buffer.commit':
        this.turnEndedAt = performance.now();
        upstream.send(event);
        return;
      default:
        upstream.send(event);
    }
  }

  private appendAudio(bytes: Uint8Array): void {
    const pcm = this.audioIn.convert(bytes);
    if (pcm.length === 0) return;
    this.upstream!.send({ type: 'input_audio_buffer.append', audio: Buffer.from(pcm).toString('base64') });
  }

  /** A whole clip of the client's format (an input_audio item) in the upstream's. */
  private convertClip(bytes: Uint8Array): Uint8Array {
    return new InboundAudio(this.settings.inputFormat).convert(bytes);
  }

  private onUpstream(event: UpstreamEvent): void {
    if (this.closed) return;
    if (this.active) this.armSilence();
    const forward = this.mirror.apply(event);
    switch (event.type) {
      case 'session.created':
      case 'session.updated':
        return; // the client's session is this server's, in its own formats
      case 'input_audio_buffer.speech_stopped':
        this.turnEndedAt = performance.now();
        break;
      case 'response.created':
        this.startActive((event as { response: { id: string } }).response.id);
        break;
      case 'response.output_audio.delta':
        return this.relayAudio(event as unknown as AudioDelta);
      case 'response.output_audio.done': {
        const tail = this.audioOut.flush();
        if (tail.length > 0) this.sendAudio(tail, event as unknown as AudioDelta);
        break;
      }
      case 'response.done':
        this.endActive(event as { response: DoneResponse });
        break;
      case 'error':
        this.deps.metrics?.upstreamError(String((event as { error?: { code?: string } }).error?.code ?? ''));
        break;
    }
    if (forward) this.forward(event);
    this.persist();
  }

  private relayAudio(event: AudioDelta): void {
    this.mirror.audio(event.item_id, upstreamAudioMs(base64Bytes(event.delta)));
    if (this.active && !this.active.firstAudio) {
      this.active.firstAudio = true;
      if (this.turnEndedAt !== undefined)
        this.deps.metrics?.upstreamFirstAudio((performance.now() - this.turnEndedAt) / 1000);
    }
    // The client's own format, as JSON: the delta goes on as it came, not decoded and re-encoded.
    if (this.audioOut.passThrough && !this.settings.binaryAudio) {
      if (event.delta !== '')
        this.emit('response.output_audio.delta', { ...pick(event), delta: event.delta });
      return;
    }
    this.sendAudio(this.audioOut.convert(Buffer.from(event.delta, 'base64')), event);
  }

  private sendAudio(chunk: Uint8Array, ref: AudioDelta): void {
    if (chunk.length === 0) return;
    if (this.settings.binaryAudio) return this.deps.transport.sendBinary(chunk);
    this.emit('response.output_audio.delta', {
      ...pick(ref),
      delta: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64'),
    });
  }

  private startActive(id: string): void {
    this.active = { id, from: performance.now(), firstAudio: false };
    this.activeDone = new Promise((resolve) => (this.activeEnded = resolve));
    this.armSilence();
  }

  private endActive(event: { response: DoneResponse }): void {
    const { status, usage } = event.response;
    this.deps.metrics?.upstreamTurn(status ?? 'unknown', usage);
    if (usage)
      this.deps.persistence?.addUsage({
        inputTokens: usage.input_tokens ?? 0,
        outputTokens: usage.output_tokens ?? 0,
      });
    this.log.info(
      {
        turn: event.response.id,
        status,
        tokens: usage ? { input: usage.input_tokens, output: usage.output_tokens } : undefined,
      },
      'upstream turn done',
    );
    this.active = undefined;
    clearTimeout(this.silenceTimer);
    this.activeEnded?.();
    // After the event is forwarded: the client gets response.done before any session.updated.
    if (this.deps.onAnswerDone) queueMicrotask(this.deps.onAnswerDone);
  }

  /** An upstream response that goes quiet for `responseTimeoutMs` is given up. */
  private armSilence(): void {
    clearTimeout(this.silenceTimer);
    const ms = this.deps.config.fallback.realtime.responseTimeoutMs;
    this.silenceTimer = setTimeout(
      () =>
        this.lose(
          new VoiceError('fallback_failed', `the fallback upstream sent nothing for ${ms} ms mid-response`),
        ),
      ms,
    );
  }

  /**
   * The upstream is gone: a response in progress ends (failed) for the client, whose history keeps
   * what it received; the host then serves the session another way or closes it.
   */
  private lose(error: VoiceError): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.upstream?.close();
    if (this.active) {
      this.mirror.interrupted();
      this.emit('response.done', {
        response: {
          id: this.active.id,
          object: 'realtime.response',
          status: 'failed',
          status_details: { type: 'failed', error: { type: 'server_error', code: error.code } },
          output: [],
        },
      });
      this.active = undefined;
      this.activeEnded?.();
    }
    this.persist();
    this.deps.onLost(error, this.carry());
  }

  private forward(event: UpstreamEvent): void {
    let type = event.type;
    if (this.deps.dialect === 'beta') {
      if (type === 'conversation.item.done') return;
      if (type === 'conversation.item.added') type = 'conversation.item.created';
    }
    const { event_id } = event as { event_id?: unknown };
    this.deps.transport.sendJson({
      ...(event as Record<string, unknown>),
      type: eventName(type, this.deps.dialect),
      event_id: typeof event_id === 'string' ? event_id : serverEvent(type).event_id,
    });
  }

  private renderSession() {
    const session = renderSession(
      this.id,
      this.deps.config.fallback.realtime.model,
      this.settings,
      this.deps.dialect,
    );
    return { ...session, x_backend: 'openai', x_backend_reason: this.deps.reason };
  }

  private emit(type: string, fields: Record<string, unknown>): void {
    if (this.closed && type !== 'response.done') return;
    this.deps.transport.sendJson(serverEvent(eventName(type, this.deps.dialect), fields));
  }

  /** Applies the conversation's caps (upstream too), then saves what changed. */
  private persist(): void {
    const { maxItems, maxChars } = this.deps.config.store;
    for (const item of this.conversation.evict(maxItems, maxChars)) {
      this.upstream?.send({ type: 'conversation.item.delete', item_id: item.id });
      this.emit('conversation.item.deleted', { item_id: item.id });
    }
    this.deps.persistence?.sync(this.conversation.takeChanges());
  }

  private stopTimers(): void {
    this.stopInbound();
    clearTimeout(this.silenceTimer);
  }
}

interface AudioDelta {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
  delta: string;
}

/** Where an audio delta belongs (its part of the response). */
function pick(ref: AudioDelta) {
  const { response_id, item_id, output_index, content_index } = ref;
  return { response_id, item_id, output_index, content_index };
}

interface DoneResponse {
  id: string;
  status?: string;
  usage?: { input_tokens?: number; output_tokens?: number; total_tokens?: number };
}
