import type { WebSocket } from 'ws';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import { CLOSE_TRY_AGAIN } from '../protocol/close-codes.js';
import { bufferOf, keepAlive, type SessionOptions } from '../routes/realtime-socket.js';
import { CallErrors } from './call-errors.js';
import { endPhoneSession, openPhoneSession, type PhoneSession } from './phone-session.js';
import { parseTwilioMessage, twilioOut, type TwilioStart } from './twilio-messages.js';

/** Twilio sends 20 ms of audio (160 bytes) per `media`; more than a second in one is not Twilio. */
const MAX_MEDIA_BYTES = 8000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type StreamOptions = Omit<SessionOptions, 'principalKey' | 'owner' | 'dialect' | 'sessionId' | 'history'>;

/**
 * One Twilio Media Stream (`<Connect><Stream>`, both ways) on an accepted WebSocket. The session
 * opens at `start`, for the Twilio account (conversations are owned by `twilio:<AccountSid>`),
 * with the call's ids and numbers stored beside it. Bad messages are counted and logged and the
 * call goes on; `stop` (or the socket closing) ends the session, which saves the conversation.
 */
export function attachTwilioStream(socket: WebSocket, options: StreamOptions): void {
  const { config, registry } = options;
  let log: Logger = options.logger.child({ transport: 'twilio' });
  const errors = new CallErrors(log, (code) => options.metrics?.error('twilio', code));
  let call: (PhoneSession & { options: SessionOptions }) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stopPings = keepAlive(socket, config.realtime.pingIntervalMs, () =>
    log.info('no pong from Twilio: disconnecting'),
  );

  const start = (message: TwilioStart) => {
    if (call) return errors.report('invalid_event', 'a second start on one stream is ignored');
    const { mediaFormat, accountSid, callSid, customParameters = {} } = message.start;
    if (
      mediaFormat.encoding !== 'audio/x-mulaw' ||
      mediaFormat.sampleRate !== 8000 ||
      mediaFormat.channels !== 1
    ) {
      errors.report(
        'unsupported_audio_format',
        `the stream's media is ${mediaFormat.encoding} at ${mediaFormat.sampleRate} Hz, ${mediaFormat.channels} channel(s); only audio/x-mulaw at 8000 Hz, mono, is read`,
      );
      socket.close(1003, 'unsupported_audio_format');
      return;
    }
    const streamSid = message.streamSid;
    const key = `twilio:${accountSid}`;
    const sessionOptions = { ...options, principalKey: key, owner: key, dialect: 'ga' as const };
    const opened = openPhoneSession(socket, sessionOptions, {
      transport: 'twilio',
      encoding: 'mulaw',
      line: (send) => ({
        audio: (bytes) => send(twilioOut.media(streamSid, bytes), false),
        mark: (name) => send(twilioOut.mark(streamSid, name), false),
        clear: () => send(twilioOut.clear(streamSid), false),
        // Base64 in JSON: 4 bytes on the wire per 3 of audio.
        bufferedAudioBytes: () => (socket.bufferedAmount * 3) / 4,
      }),
    });
    if ('refused' in opened) {
      errors.report(opened.refused.code, opened.refused.message);
      socket.close(CLOSE_TRY_AGAIN, opened.refused.code);
      return;
    }
    log = opened.log;
    call = { ...opened, options: sessionOptions };
    opened.persistence?.setMeta({
      transport: 'twilio',
      accountSid,
      callSid,
      streamSid,
      ...(customParameters.From ? { from: customParameters.From } : {}),
      ...(customParameters.To ? { to: customParameters.To } : {}),
    });
    log.info({ sessions: registry.sessions.size }, 'call started');
    timer = setTimeout(() => {
      log.info({ maxCallSec: config.telephony.maxCallSec }, 'call too long: ending it');
      socket.close(1000, 'call too long');
    }, config.telephony.maxCallSec * 1000);
  };

  const handle = (text: string) => {
    const message = parseTwilioMessage(text);
    switch (message.event) {
      case 'connected':
        return;
      case 'start':
        return start(message);
      case 'stop':
        log.info('call stopped by Twilio');
        socket.close(1000, 'stop');
        return;
    }
    if (!call) throw new VoiceError('call_not_started', `a ${message.event} message arrived before start`);
    if (message.event === 'mark') return call.phone.markEchoed(message.mark.name);
    if (message.event === 'dtmf') return call.phone.digit(message.dtmf.digit);
    const { payload, track } = message.media;
    if (track !== undefined && track !== 'inbound') return;
    if (!BASE64.test(payload) || payload.length % 4 !== 0)
      throw new VoiceError('invalid_audio_payload', 'a media payload is not base64');
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length === 0 || bytes.length > MAX_MEDIA_BYTES)
      throw new VoiceError(
        'invalid_audio_payload',
        `a media payload holds ${bytes.length} bytes of audio; 1 to ${MAX_MEDIA_BYTES} (Twilio sends 160)`,
      );
    call.phone.audioIn(bytes);
  };

  socket.on('message', (data, isBinary) => {
    if (isBinary)
      return errors.report('invalid_event', 'Twilio sends text messages; a binary one was ignored');
    try {
      handle(bufferOf(data).toString('utf8'));
    } catch (err) {
      if (err instanceof VoiceError) errors.report(err.code, err.message);
      else {
        log.error({ err }, 'unexpected error handling a Twilio message');
        errors.report('internal_error', (err as Error).message);
      }
    }
  });
  socket.on('close', (code) => {
    stopPings();
    clearTimeout(timer);
    if (!call) return;
    endPhoneSession(call, call.options);
    log.info({ code, sessions: registry.sessions.size }, 'call ended');
  });
  socket.on('error', (err) => log.warn({ err: err.message }, 'websocket error'));
}
