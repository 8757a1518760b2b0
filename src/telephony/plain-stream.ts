import type { WebSocket } from 'ws';
import { z } from 'zod';
import { VoiceError, type ErrorCode } from '../errors.js';
import { CLOSE_TRY_AGAIN } from '../protocol/close-codes.js';
import { bufferOf, keepAlive, type SessionOptions } from '../routes/realtime-socket.js';
import { CallErrors } from './call-errors.js';
import type { PhoneEncoding } from './phone-call.js';
import { endPhoneSession, openPhoneSession } from './phone-session.js';

/** A binary frame holds at most a second of audio (Asterisk and FreeSWITCH send 20 ms). */
const MAX_SECONDS_PER_FRAME = 1;

const control = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('start'),
    call_id: z.string().max(128).optional(),
    from: z.string().max(64).optional(),
    to: z.string().max(64).optional(),
  }),
  z.looseObject({ type: z.literal('dtmf'), digit: z.string().regex(/^[0-9*#A-D]$/) }),
  z.looseObject({ type: z.literal('mark'), name: z.string().max(256) }),
  z.looseObject({ type: z.literal('stop') }),
]);

export interface PlainStreamSettings {
  encoding: PhoneEncoding;
  /** The gateway echoes marks once their audio has played (else history keeps the pacer's estimate). */
  marks: boolean;
}

/**
 * The plain 8 kHz WebSocket for carriers and SIP gateways other than Twilio (docs/telephony.md):
 * binary frames of μ-law or 16-bit little-endian PCM at 8 kHz both ways, and a small JSON control
 * channel (`start`, `dtmf`, `mark`, `stop` in; `session`, `mark`, `clear`, `error` out). The
 * session starts with the socket; audio may come at once, `start` (call metadata) is optional.
 */
export function attachPlainStream(
  socket: WebSocket,
  options: Omit<SessionOptions, 'dialect'>,
  settings: PlainStreamSettings,
): void {
  const { config, registry } = options;
  const sendJson = (value: Record<string, unknown>) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(value));
  };
  const sessionOptions = { ...options, dialect: 'ga' as const };
  const opened = openPhoneSession(socket, sessionOptions, {
    transport: 'phone',
    encoding: settings.encoding,
    line: (send) => ({
      audio: (bytes) => send(bytes, true),
      ...(settings.marks
        ? { mark: (name: string) => send(JSON.stringify({ type: 'mark', name }), false) }
        : {}),
      clear: () => send(JSON.stringify({ type: 'clear' }), false),
      bufferedAudioBytes: () => socket.bufferedAmount,
      error: (code, message) => send(JSON.stringify({ type: 'error', code, message }), false),
    }),
  });
  if ('refused' in opened) {
    sendJson({ type: 'error', ...opened.refused });
    socket.close(CLOSE_TRY_AGAIN, opened.refused.code);
    return;
  }
  const { session, persistence, phone: call, log } = opened;
  const errors = new CallErrors(log, (code) => options.metrics?.error('phone', code));
  const report = (code: ErrorCode, message: string) => {
    errors.report(code, message);
    sendJson({ type: 'error', code, message });
  };
  sendJson({ type: 'session', session_id: session.id, encoding: settings.encoding, sample_rate: 8000 });
  const stopPings = keepAlive(socket, config.realtime.pingIntervalMs, () =>
    log.info('no pong from the gateway: disconnecting'),
  );
  const timer = setTimeout(() => socket.close(1000, 'call too long'), config.telephony.maxCallSec * 1000);
  const maxFrame = (settings.encoding === 'mulaw' ? 8000 : 16000) * MAX_SECONDS_PER_FRAME;

  const handle = (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (
        data.length === 0 ||
        data.length > maxFrame ||
        (settings.encoding === 'l16' && data.length % 2 !== 0)
      )
        throw new VoiceError(
          'invalid_audio_payload',
          `an audio frame holds ${data.length} bytes; 1 to ${maxFrame}${settings.encoding === 'l16' ? ', an even number' : ''}`,
        );
      return call.audioIn(data);
    }
    let value: unknown;
    try {
      value = JSON.parse(data.toString('utf8'));
    } catch {
      throw new VoiceError('invalid_json', 'a control message is not valid JSON');
    }
    const parsed = control.safeParse(value);
    if (!parsed.success) {
      const type = (value as { type?: unknown } | null)?.type;
      if (!['start', 'dtmf', 'mark', 'stop'].includes(type as string))
        throw new VoiceError(
          'unknown_event',
          `unknown control message ${JSON.stringify(type ?? null).slice(0, 60)} (expected start, dtmf, mark or stop)`,
        );
      const issue = parsed.error.issues[0]!;
      throw new VoiceError('invalid_event', `${String(type)}: ${issue.path.join('.')}: ${issue.message}`);
    }
    const message = parsed.data;
    switch (message.type) {
      case 'start':
        persistence?.setMeta({
          transport: 'phone',
          ...(message.call_id ? { callId: message.call_id } : {}),
          ...(message.from ? { from: message.from } : {}),
          ...(message.to ? { to: message.to } : {}),
        });
        return;
      case 'dtmf':
        return call.digit(message.digit);
      case 'mark':
        return call.markEchoed(message.name);
      case 'stop':
        socket.close(1000, 'stop');
    }
  };

  socket.on('message', (data, isBinary) => {
    try {
      handle(bufferOf(data), isBinary);
    } catch (err) {
      if (err instanceof VoiceError) report(err.code, err.message);
      else {
        log.error({ err }, 'unexpected error handling a gateway message');
        report('internal_error', 'internal error while handling the message');
      }
    }
  });
  socket.on('close', (code) => {
    stopPings();
    clearTimeout(timer);
    endPhoneSession(opened, sessionOptions);
    log.info({ code, sessions: registry.sessions.size }, 'call ended');
  });
  socket.on('error', (err) => log.warn({ err: err.message }, 'websocket error'));
}
