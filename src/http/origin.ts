import type { FastifyRequest } from 'fastify';
import { VoiceError } from '../errors.js';

/**
 * Refuses a WebSocket upgrade from a web page of another origin. Browsers send `Origin` on every
 * WebSocket and let any page open one to 127.0.0.1, so without this check any page the user
 * visits could talk to the assistant and reopen conversations. Clients that are not browsers send
 * no Origin and are let through (auth is what guards them).
 */
export function checkOrigin(request: Pick<FastifyRequest, 'headers'>, allowed: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin === undefined || allowed.includes('*')) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new VoiceError('origin_not_allowed', 'the Origin header is not a URL');
  }
  if (host === request.headers.host) return;
  const normalized = allowed.map((a) => new URL(a).origin);
  if (normalized.includes(new URL(origin).origin)) return;
  throw new VoiceError(
    'origin_not_allowed',
    `pages of ${origin} may not open this WebSocket (server.allowedOrigins)`,
  );
}
