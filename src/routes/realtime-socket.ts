import type { Retrieval } from '../rag/retrieval.js';
import type { WebSocket } from 'ws';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { SessionLease } from '../limits/shared-limits.js';
import { CLOSE_POLICY_VIOLATION, CLOSE_TRY_AGAIN } from '../protocol/close-codes.js';
import { serverEvent, type Dialect } from '../protocol/server-events.js';
import { newSessionId, sessionTag } from '../store/session-id.js';
import type { ConversationStore, StoredItem } from '../store/types.js';
import { ConversationSync } from '../session/persistence.js';
import type { Runtime } from '../runtime/runtime.js';
import type { SessionTransport } from '../session/session.js';
import { FailoverSession, type Backend, type FailoverOptions } from '../fallback/failover-session.js';
import { startReason } from '../fallback/policy.js';

/** setTimeout fires at once past 2^31 - 1 ms (24.8 days): longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sends on a socket unless its reader has stalled: a client that stops reading lets
 * `bufferedAmount` grow, and past `maxBuffered` bytes it is disconnected, since a close frame
 * would wait behind everything it did not read.
 */
export function stallGuardedSend(
  socket: WebSocket,
  maxBuffered: number,
  log: Logger,
): (data: string | Uint8Array, binary: boolean) => void {
  let cut = false;
  return (data, binary) => {
    if (socket.readyState !== socket.OPEN || cut) return;
    if (socket.bufferedAmount > maxBuffered) {
      cut = true;
      log.warn({ buffered: socket.bufferedAmount }, 'the client stopped reading: disconnecting');
      socket.terminate();
      return;
    }
    socket.send(data, { binary });
  };
}

/** A session's way out to its socket (the audio pacer waits on `bufferedBytes`). */
export function socketTransport(socket: WebSocket, maxBuffered: number, log: Logger): SessionTransport {
  const send = stallGuardedSend(socket, maxBuffered, log);
  return {
    sendJson: (event) => send(JSON.stringify(event), false),
    sendBinary: (bytes) => send(bytes, true),
    close: (code, reason) => socket.close(code, reason),
    bufferedBytes: () => socket.bufferedAmount,
  };
}

/** Open sessions, in all, per backend and per principal (token or client address). */
export class SessionRegistry {
  readonly sessions = new Set<FailoverSession>();
  private readonly perKey = new Map<string, number>();
  private readonly perBackend: Record<Backend, number> = { local: 0, openai: 0 };
  constructor(
    readonly max: number,
    readonly maxPerKey: number,
    /** Sessions the fallback upstream may serve at once. */
    readonly maxUpstream = 0,
  ) {}

  /** The local engines serve as many sessions as they may. */
  get full(): boolean {
    return this.perBackend.local >= this.max;
  }

  count(backend: Backend): number {
    return this.perBackend[backend];
  }

  hasRoom(backend: Backend): boolean {
    return this.perBackend[backend] < (backend === 'local' ? this.max : this.maxUpstream);
  }

  countOf(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  add(session: FailoverSession, key: string): void {
    this.sessions.add(session);
    this.perBackend[session.backend]++;
    this.perKey.set(key, this.countOf(key) + 1);
  }

  moved(from: Backend, to: Backend): void {
    this.perBackend[from]--;
    this.perBackend[to]++;
  }

  delete(session: FailoverSession, key: string): void {
    if (!this.sessions.delete(session)) return;
    this.perBackend[session.backend]--;
    const n = this.countOf(key) - 1;
    if (n > 0) this.perKey.set(key, n);
    else this.perKey.delete(key);
  }
}

/** What opening a session needs, whichever socket carries it. */
export interface SessionOptions {
  runtime: Runtime | undefined;
  /** The engines now: a session that outlives the upstream comes back to them once loaded. */
  currentRuntime?: () => Runtime | undefined;
  registry: SessionRegistry;
  config: Config;
  logger: Logger;
  dialect: Dialect;
  /** Who the session acts for: sessions are counted per key. */
  principalKey: string;
  /** Who owns the conversation (`Principal.owner`). */
  owner: string;
  sessionId?: string | undefined;
  /** The stored conversation the session continues (empty for a new one). */
  history?: StoredItem[] | undefined;
  store?: ConversationStore | undefined;
  metrics?: Metrics | undefined;
  rag?: Retrieval | undefined;
  connectUpstream?: FailoverOptions['connectUpstream'];
}

export type OpenedSession =
  | { session: FailoverSession; persistence: ConversationSync | undefined; refused?: undefined }
  | { refused: { code: 'session_limit_reached' | 'engine_unavailable'; message: string } };

/**
 * Opens a session within the limits (per key, in all, per backend) on the local engines or the
 * fallback upstream by policy, and counts it; `release` must follow when its socket closes.
 */
export function openSession(
  options: SessionOptions,
  transport: (log: Logger) => SessionTransport,
): OpenedSession {
  const { runtime, registry, config, principalKey } = options;
  if (registry.countOf(principalKey) >= registry.maxPerKey)
    return {
      refused: {
        code: 'session_limit_reached',
        message: `this token (or address) already has ${registry.maxPerKey} open sessions`,
      },
    };
  let upstream = startReason(config, { serving: runtime?.readiness.serving === true, full: registry.full });
  if (upstream && !registry.hasRoom('openai')) upstream = undefined;
  if (!upstream) {
    if (!runtime)
      return {
        refused: {
          code: 'engine_unavailable',
          message: 'the engines are still loading; retry in a few seconds',
        },
      };
    if (registry.full)
      return {
        refused: {
          code: 'session_limit_reached',
          message: `the server already serves ${registry.max} sessions`,
        },
      };
  }
  const sessionId = options.sessionId ?? newSessionId();
  const log = options.logger.child({ session: sessionTag(sessionId) });
  const persistence = options.store
    ? new ConversationSync(options.store, options.owner, sessionId, options.history ?? [], log)
    : undefined;
  const session = new FailoverSession(
    {
      id: sessionId,
      ...(persistence ? { persistence } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      rag: options.rag,
      ...(options.connectUpstream ? { connectUpstream: options.connectUpstream } : {}),
      runtime: options.currentRuntime ?? (() => runtime),
      config,
      logger: options.logger,
      dialect: options.dialect,
      transport: transport(log),
      hasRoom: (backend) => registry.hasRoom(backend),
      moved: (from, to) => registry.moved(from, to),
    },
    upstream,
  );
  registry.add(session, principalKey);
  session.log.info(
    {
      sessions: registry.sessions.size,
      dialect: options.dialect,
      backend: session.backend,
      reason: upstream,
    },
    'session opened',
  );
  return { session, persistence };
}

/** Pings the peer every `intervalMs`; one that misses two pongs is cut. Returns the stop. */
export function keepAlive(socket: WebSocket, intervalMs: number, onDead: () => void): () => void {
  let missedPongs = 0;
  const ping = setInterval(() => {
    if (missedPongs >= 2) {
      onDead();
      socket.terminate();
      return;
    }
    missedPongs++;
    socket.ping();
  }, intervalMs);
  socket.on('pong', () => (missedPongs = 0));
  return () => clearInterval(ping);
}

/**
 * Runs one real-time session on an accepted WebSocket: keepalive pings, the session limits, the
 * choice of backend (local engines, or the fallback upstream by policy), and the handoff of every
 * message to the session (which never throws at the socket).
 */
export function attachSession(
  socket: WebSocket,
  options: SessionOptions & {
    /** When the token expires (epoch ms): the session is closed then. */
    expiresAt?: number | undefined;
    /** The session's place in the limits shared across instances, released when it closes. */
    lease?: SessionLease | undefined;
    /** Refused before the upgrade (the shared limits): said on the socket like a local refusal. */
    refused?: Extract<OpenedSession, { refused: object }>['refused'];
  },
): void {
  const { registry, config, principalKey } = options;
  const opened: OpenedSession = options.refused
    ? { refused: options.refused }
    : openSession(options, (log) => socketTransport(socket, config.realtime.maxOutputBufferBytes, log));
  if (opened.refused) {
    options.lease?.release();
    const { code, message } = opened.refused;
    socket.send(
      JSON.stringify(
        serverEvent('error', { error: { type: 'server_error', code, message, param: null, event_id: null } }),
      ),
    );
    socket.close(CLOSE_TRY_AGAIN, code);
    return;
  }
  const { session } = opened;
  const stopPings = keepAlive(socket, config.realtime.pingIntervalMs, () =>
    session.log.info('no pong from the client: disconnecting'),
  );
  let expiry: NodeJS.Timeout | undefined;
  const { expiresAt } = options;
  const untilExpiry = () => {
    const ms = expiresAt! - Date.now();
    if (ms > 0) expiry = setTimeout(untilExpiry, Math.min(ms, MAX_TIMER_MS));
    else
      session.closeWithError(
        'token_expired',
        'the bearer token has expired; connect again with a new one',
        CLOSE_POLICY_VIOLATION,
        'token_expired',
      );
  };
  if (expiresAt !== undefined) untilExpiry();
  socket.on('message', (data, isBinary) => void session.receive(bufferOf(data), isBinary));
  socket.on('close', (code) => {
    stopPings();
    clearTimeout(expiry);
    session.close();
    registry.delete(session, principalKey);
    options.lease?.release();
    session.log.info({ code, sessions: registry.sessions.size }, 'session closed');
  });
  socket.on('error', (err) => session.log.warn({ err: err.message }, 'websocket error'));
}

/** A ws message's data as one Buffer. */
export function bufferOf(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
