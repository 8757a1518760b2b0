import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/**
 * Twilio's request signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * base64 of HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio requested
 * followed by each POST parameter's name and value, sorted by name. A WebSocket upgrade has no
 * parameters: the URL alone is signed.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string> = {}): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Whether `signature` is Twilio's for this URL and these parameters (compared in constant time). */
export function validTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string> = {},
): boolean {
  if (!signature) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * The URL Twilio requested: `publicUrl` (the configured base) with the request's path and query,
 * else rebuilt from the request (`Host`, and the protocol fastify derives, which honours
 * `X-Forwarded-Proto` only behind a trusted proxy). `ws` gives the WebSocket scheme.
 */
export function requestedUrl(request: FastifyRequest, publicUrl: string, ws = false): string {
  return publicBase(request, publicUrl, ws) + request.url;
}

/** Scheme, host and path prefix this server is reached at, as `requestedUrl` finds them. */
export function publicBase(request: FastifyRequest, publicUrl: string, ws = false): string {
  const base = publicUrl ? new URL(publicUrl) : new URL(`${request.protocol}://${request.host}`);
  const secure = base.protocol === 'https:';
  const scheme = ws ? (secure ? 'wss:' : 'ws:') : base.protocol;
  return `${scheme}//${base.host}${base.pathname.replace(/\/$/, '')}`;
}
