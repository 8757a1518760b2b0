import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

/**
 * Closes connections that send no complete request within `ms`. Node's request and header
 * timeouts start with a request's first byte, so a client that opens connections and sends nothing
 * would hold them (and their file descriptors) for ever. A connection is let go of once its first
 * request's headers (or a WebSocket upgrade) arrive; between requests, keep-alive's own timeout
 * applies.
 */
export function closeIdleConnections(server: Server, ms: number): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const release = (socket: Socket) => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  // Over TLS the request's socket is the TLS socket (a handshake that stalls has its own timeout).
  const event = server instanceof TlsServer ? 'secureConnection' : 'connection';
  server.on(event, (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    timer.unref();
    timers.set(socket, timer);
    socket.once('close', () => release(socket));
  });
  server.on('request', (request: { socket: Socket }) => release(request.socket));
  server.on('upgrade', (request: { socket: Socket }) => release(request.socket));
}
