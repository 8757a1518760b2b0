import type { WebSocket } from 'ws';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { serverEvent, type Dialect } from '../protocol/server-events.js';
import type { RealtimeRuntime } from './runtime.js';
import { RealtimeSession } from './session.js';

/** Close codes: 1000 normal or idle, 1001 server shutting down, 1013 try again later (full or not ready). */
export const CLOSE_TRY_AGAIN = 1013;

export class SessionRegistry {
  readonly sessions = new Set<RealtimeSession>();
  constructor(readonly max: number) {}
  get full(): boolean {
    return this.sessions.size >= this.max;
  }
}

/**
 * Runs one real-time session on an accepted WebSocket: keepalive pings, the session limit, and
 * the handoff of every message to the session (which never throws at the socket).
 */
export function attachSession(
  socket: WebSocket,
  options: {
    runtime: RealtimeRuntime | undefined;
    registry: SessionRegistry;
    config: Config;
    logger: Logger;
    dialect: Dialect;
  },
): void {
  const refuse = (code: 'session_limit_reached' | 'engine_unavailable', message: string) => {
    socket.send(
      JSON.stringify(
        serverEvent('error', { error: { type: 'server_error', code, message, param: null, event_id: null } }),
      ),
    );
    socket.close(CLOSE_TRY_AGAIN, code);
  };
  const { runtime, registry, config } = options;
  if (!runtime) return refuse('engine_unavailable', 'the engines are still loading; retry in a few seconds');
  if (registry.full)
    return refuse('session_limit_reached', `the server already serves ${registry.max} sessions`);
  const session = new RealtimeSession({
    engines: runtime.engines,
    fillers: runtime.fillers,
    cache: runtime.cache,
    config,
    logger: options.logger,
    dialect: options.dialect,
    model: runtime.model,
    transport: {
      sendJson: (event) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
      },
      sendBinary: (bytes) => {
        if (socket.readyState === socket.OPEN) socket.send(bytes, { binary: true });
      },
      close: (code, reason) => socket.close(code, reason),
    },
  });
  registry.sessions.add(session);
  session.log.info({ sessions: registry.sessions.size, dialect: options.dialect }, 'session opened');
  let missedPongs = 0;
  const ping = setInterval(() => {
    if (missedPongs >= 2) {
      session.log.info('no pong from the client: disconnecting');
      socket.terminate();
      return;
    }
    missedPongs++;
    socket.ping();
  }, config.realtime.pingIntervalMs);
  socket.on('pong', () => (missedPongs = 0));
  socket.on('message', (data, isBinary) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    void session.receive(isBinary ? buf : buf.toString('utf8'), isBinary);
  });
  socket.on('close', (code) => {
    clearInterval(ping);
    session.close();
    registry.sessions.delete(session);
    session.log.info({ code, sessions: registry.sessions.size }, 'session closed');
  });
  socket.on('error', (err) => session.log.warn({ err: err.message }, 'websocket error'));
}
