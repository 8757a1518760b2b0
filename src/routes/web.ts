import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { VoiceError } from '../errors.js';

/** The built page (`npm run build` → dist/web), from the sources (tsx) or from dist itself. */
const WEB_DIRS = [new URL('../../dist/web/', import.meta.url), new URL('../web/', import.meta.url)];

const TYPES: Record<string, string> = {
  'main.js': 'text/javascript; charset=utf-8',
  'capture-worklet.js': 'text/javascript; charset=utf-8',
  'playback-worklet.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/**
 * Scripts, styles and connections from this origin only; the microphone for this origin only.
 * `ws:`/`wss:` of the same host are what `'self'` does not cover in every browser.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; media-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Paths served without a token even when auth is on: the page asks for the token itself. */
export const WEB_PATHS = ['/', ...Object.keys(TYPES).map((f) => `/app/${f}`)];

function webDir(): URL | undefined {
  return WEB_DIRS.find((dir) => existsSync(new URL('index.html', dir)));
}

function page(reply: FastifyReply, file: string, type: string): FastifyReply {
  const dir = webDir();
  if (!dir) throw new VoiceError('not_found', 'the page is not built: run npm run build');
  return reply
    .header('content-type', type)
    .header('content-security-policy', CSP)
    .header('permissions-policy', 'microphone=(self), camera=(), geolocation=()')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .send(readFileSync(new URL(file, dir)));
}

/** `GET /`: the voice page; `GET /app/FILE`: its scripts and style. */
export function webRoutes(app: FastifyInstance): void {
  app.get('/', (_request, reply) => page(reply, 'index.html', 'text/html; charset=utf-8'));
  app.get<{ Params: { file: string } }>('/app/:file', (request, reply) => {
    const type = TYPES[request.params.file];
    if (!type) throw new VoiceError('not_found', 'no such file');
    return page(reply, request.params.file, type);
  });
}
