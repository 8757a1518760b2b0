import type { Config } from '../config.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ServerEvent } from '../protocol/server-events.js';
import type { SessionTransport } from '../session/session.js';

/** The carrier's side of a call: what a transport (Twilio, the plain 8 kHz socket) can do. */
export interface PhoneLine {
  /** Answer audio in the call's encoding, 8 kHz. */
  audio(bytes: Uint8Array): void;
  /** A mark the carrier echoes once the audio sent before it has played; absent when it has none. */
  mark?(name: string): void;
  /** Drops the audio the carrier holds, unplayed. */
  clear(): void;
  /** Audio bytes handed to the socket and not yet written to the network. */
  bufferedAudioBytes(): number;
  close(code: number, reason: string): void;
  /** Tells the carrier's side of an error, when it can read one. */
  error?(code: ErrorCode, message: string): void;
}

/** The session a call drives: client events and binary audio in, as any real-time client sends them. */
export interface CallSession {
  receive(data: Buffer | string, isBinary: boolean): Promise<void>;
}

export type PhoneEncoding = 'mulaw' | 'l16';

interface Mark {
  name: string;
  itemId: string;
  ms: number;
}

type Outbound = { audio: Uint8Array } | { mark: Mark };

/** Longest answer audio held while the VAD decides whether a voice onset is speech. */
const MAX_HELD_MS = 5000;
/**
 * Marks remembered while not echoed (a gateway may never echo them): past this many the oldest
 * are forgotten, which only makes a later barge-in's truncation coarser.
 */
const MAX_MARKS = 512;
/** Digits in one DTMF item at most: more are sent as the next item. */
const MAX_DIGITS = 32;

/**
 * One phone call in front of a real-time session: the call's audio goes in as binary frames, the
 * answer's audio goes out to the line with a mark after each sentence (and every
 * `telephony.markIntervalMs`), and the caller talking over it clears the line at once. History
 * keeps what the caller heard: up to the last mark the carrier echoed, not what was sent.
 *
 * With `clearOn: 'onset'` the line is cleared at the first voiced frame and answer audio is held
 * from then: released if the voice dies out before it is speech (a cough), dropped if it is.
 */
export class PhoneCall {
  readonly transport: SessionTransport;
  private session: CallSession | undefined;
  private readonly bytesPerMs: number;
  /** The assistant item whose audio is going out, and how much of it has gone (bytes). */
  private item: { id: string; bytes: number; markedBytes: number } | undefined;
  /** Marks sent and not yet echoed, oldest first. */
  private pending: Mark[] = [];
  /** Marks that were pending when the line was cleared: their echoes say nothing was heard. */
  private readonly cleared = new Set<string>();
  /** The last mark the carrier echoed for audio it played. */
  private heard: Mark | undefined;
  private held: Outbound[] | undefined;
  private heldBytes = 0;
  private responding = false;
  private digits = '';
  private digitTimer: NodeJS.Timeout | undefined;
  private marksSent = 0;
  private ended = false;

  constructor(
    private readonly line: PhoneLine,
    private readonly options: {
      telephony: Config['telephony'];
      encoding: PhoneEncoding;
      log: Logger;
      /** Reports an error of the session or the call (counted by the caller). */
      onError?: (code: ErrorCode) => void;
    },
  ) {
    this.bytesPerMs = options.encoding === 'mulaw' ? 8 : 16;
    this.transport = {
      sendJson: (event) => this.onEvent(event),
      sendBinary: (bytes) => this.onAudio(bytes),
      close: (code, reason) => line.close(code, reason),
      bufferedBytes: () => line.bufferedAudioBytes(),
    };
  }

  /** Starts the call on its session: 8 kHz audio both ways, binary frames, voice onsets reported. */
  attach(session: CallSession): void {
    this.session = session;
    const format =
      this.options.encoding === 'mulaw' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: 8000 };
    this.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        binary_audio: true,
        audio: {
          input: { format, turn_detection: { x_speech_onset: this.options.telephony.clearOn === 'onset' } },
          output: { format },
        },
      },
    });
  }

  /** Caller audio, in the call's encoding. */
  audioIn(bytes: Uint8Array): void {
    void this.session?.receive(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), true);
  }

  /** The carrier played the audio up to this mark (or dropped it, for a mark pending at a clear). */
  markEchoed(name: string): void {
    if (this.cleared.delete(name)) return;
    const at = this.pending.findIndex((m) => m.name === name);
    if (at < 0) return void this.options.log.debug({ mark: name }, 'echo of a mark not sent, ignored');
    // Marks are echoed in the order they were sent: the ones before it have played too.
    this.heard = this.pending[at];
    this.pending.splice(0, at + 1);
  }

  /** A keypad digit: digits close together (or ended by `#`) make one user text item. */
  digit(digit: string): void {
    const { dtmf, dtmfGapMs } = this.options.telephony;
    if (dtmf === 'ignore') return;
    this.digits += digit;
    clearTimeout(this.digitTimer);
    if (digit === '#' || dtmfGapMs === 0 || this.digits.length >= MAX_DIGITS) this.flushDigits();
    else this.digitTimer = setTimeout(() => this.flushDigits(), dtmfGapMs);
  }

  /** The call is over: digits not yet sent are dropped with their timer. */
  end(): void {
    this.ended = true;
    clearTimeout(this.digitTimer);
  }

  /** The last mark the carrier confirmed played: its item and position (for tests and logs). */
  get heardMark(): Readonly<Mark> | undefined {
    return this.heard;
  }

  private flushDigits() {
    const text = `DTMF: ${this.digits}`;
    this.digits = '';
    if (this.ended) return;
    this.options.log.debug({ digits: text.length - 6 }, 'keypad digits');
    // Keys pressed over an answer interrupt it, as speech does (a truncate stops the response).
    if (this.options.telephony.dtmf === 'respond' && this.responding && !this.bargeIn())
      this.send({ type: 'response.cancel' });
    this.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    });
    if (this.options.telephony.dtmf === 'respond') this.send({ type: 'response.create' });
  }

  private onEvent(event: ServerEvent): void {
    switch (event.type) {
      case 'response.created':
        this.responding = true;
        return;
      case 'response.done':
        this.responding = false;
        return;
      case 'response.output_item.added': {
        const item = event.item as { id: string; role?: string };
        if (item.role === 'assistant') this.item = { id: item.id, bytes: 0, markedBytes: 0 };
        return;
      }
      case 'response.output_audio_transcript.delta':
        // A sentence starts: the one before it (or the filler) has ended.
        this.markHere();
        return;
      case 'response.output_audio.done':
        this.markHere();
        return;
      case 'input_audio_buffer.x_speech_onset':
        this.hold();
        return;
      case 'input_audio_buffer.x_speech_onset_dropped':
        this.release();
        return;
      case 'input_audio_buffer.speech_started':
        this.bargeIn();
        return;
      case 'conversation.item.truncated':
        this.options.log.debug(
          { item: event.item_id, audioEndMs: event.audio_end_ms },
          'answer truncated to what the caller heard',
        );
        return;
      case 'error': {
        const { code, message } = (event as unknown as { error: { code: ErrorCode; message: string } }).error;
        this.options.log.warn({ code, message }, 'call session error');
        this.options.onError?.(code);
        this.line.error?.(code, message);
        return;
      }
    }
  }

  private onAudio(bytes: Uint8Array): void {
    const item = this.item;
    if (!item) return;
    item.bytes += bytes.length;
    this.out({ audio: bytes });
    const interval = this.options.telephony.markIntervalMs * this.bytesPerMs;
    if (item.bytes - item.markedBytes >= interval) this.markHere();
  }

  /** A mark at the current end of the answer's audio, unless one is there already. */
  private markHere() {
    const item = this.item;
    if (!this.line.mark || !item || item.bytes === item.markedBytes) return;
    item.markedBytes = item.bytes;
    const ms = Math.floor(item.bytes / this.bytesPerMs);
    this.out({ mark: { name: `${item.id}:${ms}:${++this.marksSent}`, itemId: item.id, ms } });
  }

  private out(entry: Outbound) {
    if (this.held) {
      if ('audio' in entry) {
        this.heldBytes += entry.audio.length;
        // Held for longer than any onset lasts: the VAD said nothing; play on rather than pile up.
        if (this.heldBytes > MAX_HELD_MS * this.bytesPerMs) return this.release(entry);
      }
      this.held.push(entry);
      return;
    }
    this.deliver(entry);
  }

  private deliver(entry: Outbound) {
    if ('audio' in entry) return this.line.audio(entry.audio);
    if (this.pending.length >= MAX_MARKS) this.pending.shift();
    this.pending.push(entry.mark);
    this.line.mark!(entry.mark.name);
  }

  /** Voice heard over the answer: what the carrier queued is cleared, what comes next is held. */
  private hold() {
    if (this.held || !this.unconfirmed()) return;
    this.options.log.debug(
      { pendingMarks: this.pending.length },
      'voice over the answer: line cleared, audio held',
    );
    this.clearLine();
    this.held = [];
    this.heldBytes = 0;
  }

  /** The voice died out: the held audio plays (what was cleared at the onset is lost). */
  private release(last?: Outbound) {
    const held = this.held;
    if (held) this.options.log.debug({ heldBytes: this.heldBytes }, 'voice died out: held audio released');
    this.held = undefined;
    for (const entry of held ?? []) this.deliver(entry);
    if (last) this.deliver(last);
  }

  /**
   * The caller speaks: the line is cleared, and the item keeps what the caller heard. True when a
   * truncate went to the session (which stops the answer if it still runs).
   */
  private bargeIn(): boolean {
    const wasHolding = this.held !== undefined;
    this.held = undefined;
    const item = this.item;
    if (!wasHolding && !this.unconfirmed()) return false;
    if (!wasHolding) this.clearLine();
    this.item = undefined;
    if (!this.line.mark || !item || item.bytes === 0) return false;
    const heardMs = this.heard?.itemId === item.id ? this.heard.ms : 0;
    this.options.log.debug({ item: item.id, heardMs, sentMs: item.bytes / this.bytesPerMs }, 'barge-in');
    this.send({
      type: 'conversation.item.truncate',
      item_id: item.id,
      content_index: 0,
      audio_end_ms: heardMs,
    });
    return true;
  }

  /** Whether audio went out that the carrier has not confirmed playing. */
  private unconfirmed(): boolean {
    if (!this.line.mark) return this.responding || (this.item?.bytes ?? 0) > 0;
    return this.pending.length > 0 || (this.item !== undefined && this.item.bytes > this.item.markedBytes);
  }

  private clearLine() {
    this.line.clear();
    for (const m of this.pending) this.cleared.add(m.name);
    this.pending = [];
    for (const name of this.cleared) {
      if (this.cleared.size <= MAX_MARKS) break;
      this.cleared.delete(name);
    }
  }

  private send(event: Record<string, unknown>) {
    void this.session?.receive(JSON.stringify(event), false);
  }
}
