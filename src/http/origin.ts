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
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new VoiceError('origin_not_allowed', 'the Origin header is not a URL');
  }
  if (url.host === request.headers.host) return;
  if (allowed.some((a) => new URL(a).origin === url.origin)) return;
  throw new VoiceError(
    'origin_not_allowed',
    `pages of ${origin} may not open this WebSocket (server.allowedOrigins)`,
  );
}
