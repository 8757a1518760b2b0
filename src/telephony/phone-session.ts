import type { WebSocket } from 'ws';
import type { ErrorCode } from '../errors.js';
import type { FailoverSession } from '../fallback/failover-session.js';
import type { Logger } from '../log.js';
import type { Transport } from '../metrics/registry.js';
import {
  openSession,
  stallGuardedSend,
  type OpenedSession,
  type SessionOptions,
} from '../routes/realtime-socket.js';
import type { ConversationSync } from '../session/persistence.js';
import { PhoneCall, type PhoneEncoding, type PhoneLine } from './phone-call.js';

export interface PhoneSession {
  session: FailoverSession;
  persistence: ConversationSync | undefined;
  phone: PhoneCall;
  /** The session's log, with the transport. */
  log: Logger;
}

/**
 * A real-time session with a PhoneCall in front of it, for a phone transport's socket: the call's
 * line writes through the stalled-reader cut; `line` says how audio, marks and clears are framed on
 * this carrier's wire (`send(data, binary)`). Refused as `openSession` refuses.
 */
export function openPhoneSession(
  socket: WebSocket,
  options: SessionOptions,
  call: {
    transport: Extract<Transport, 'twilio' | 'phone'>;
    encoding: PhoneEncoding;
    line: (send: (data: string | Uint8Array, binary: boolean) => void) => Omit<PhoneLine, 'close'>;
  },
): PhoneSession | Extract<OpenedSession, { refused: object }> {
  let phone: PhoneCall | undefined;
  let log: Logger | undefined;
  const opened = openSession(options, (sessionLog) => {
    log = sessionLog.child({ transport: call.transport });
    const send = stallGuardedSend(socket, options.config.realtime.maxOutputBufferBytes, log);
    phone = new PhoneCall(
      { ...call.line(send), close: (code, reason) => socket.close(code, reason) },
      {
        telephony: options.config.telephony,
        encoding: call.encoding,
        log,
        onError: (code: ErrorCode) => options.metrics?.error(call.transport, code),
      },
    );
    return phone.transport;
  });
  if (opened.refused) return opened;
  phone!.attach(opened.session);
  return { session: opened.session, persistence: opened.persistence, phone: phone!, log: log! };
}

/** The socket of a call closed: the call, then its session, end, and the session is uncounted. */
export function endPhoneSession(call: PhoneSession, options: SessionOptions): void {
  call.phone.end();
  call.session.close();
  options.registry.delete(call.session, options.principalKey);
}
