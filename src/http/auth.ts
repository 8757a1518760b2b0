import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors as joseErrors, importSPKI, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import { WEB_PATHS } from '../routes/web.js';

/** Who a request acts for: the token's subject, or the client address when auth is off. */
export interface Principal {
  /** Rate limits and session quotas count per key. */
  key: string;
  subject: string | undefined;
  /**
   * Who owns the conversations this request creates, and may read or continue them: the token's
   * subject; without a token (auth off, or an open path), everyone without one, so that the
   * unguessable session id is what lets a caller continue a conversation.
   */
  owner: string;
  /** When the token stops being valid (epoch ms): open WebSockets are closed then. */
  expiresAt?: number;
  /** The token's `scope` claim (space-separated, or a `scp` list); undefined without a token. */
  scopes?: string[];
}

/** OAuth's `scope` (a space-separated string) or Azure's `scp` (a string or a list). */
function scopesOf(payload: Record<string, unknown>): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(/\s+/).filter(Boolean);
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
}

/** The owner of conversations made without a token. */
export const ANONYMOUS_OWNER = 'anonymous';

const anonymous = (ip: string): Principal => ({ key: ip, subject: undefined, owner: ANONYMOUS_OWNER });

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** Subprotocol entries that carry a token, since browsers cannot set headers on a WebSocket. */
const PROTOCOL_PREFIXES = ['bearer.', 'openai-insecure-api-key.'];

/** The bearer token of a request: Authorization header, `?token=`, or a WebSocket subprotocol. */
export function tokenOf(request: Pick<FastifyRequest, 'headers' | 'query'>): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  if (typeof query?.token === 'string' && query.token !== '') return query.token;
  const protocols = request.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string')
    for (const entry of protocols.split(',').map((p) => p.trim()))
      for (const prefix of PROTOCOL_PREFIXES)
        if (entry.startsWith(prefix) && entry.length > prefix.length) return entry.slice(prefix.length);
  return undefined;
}

/**
 * The subprotocol the server answers a WebSocket with: `realtime` when offered (OpenAI's clients),
 * else the first entry that is not a token. A token is never echoed (it would travel back in a
 * header that proxies log), so a browser client must offer a protocol beside it, as OpenAI's do.
 */
export function selectProtocol(protocols: Set<string>): string | false {
  if (protocols.has('realtime')) return 'realtime';
  return [...protocols].find((p) => !PROTOCOL_PREFIXES.some((prefix) => p.startsWith(prefix))) ?? false;
}

/** Verifies HS256 or RS256 JWTs with the key, issuer and audience of the config. */
export class TokenVerifier {
  private constructor(
    private readonly key: Awaited<ReturnType<typeof importSPKI>> | Uint8Array,
    private readonly auth: Config['auth'],
  ) {}

  static async create(auth: Config['auth']): Promise<TokenVerifier> {
    if (auth.algorithm === 'HS256') {
      if (auth.secret.length < 32)
        throw new VoiceError('invalid_config', 'auth.secret must hold at least 32 characters for HS256');
      return new TokenVerifier(new TextEncoder().encode(auth.secret), auth);
    }
    if (!auth.publicKeyFile)
      throw new VoiceError('invalid_config', 'auth.publicKeyFile is required for RS256');
    let pem: string;
    try {
      pem = readFileSync(auth.publicKeyFile, 'utf8');
    } catch (err) {
      throw new VoiceError(
        'file_not_found',
        `auth.publicKeyFile ${auth.publicKeyFile}: ${(err as Error).message}`,
      );
    }
    return new TokenVerifier(await importSPKI(pem, 'RS256'), auth);
  }

  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [this.auth.algorithm],
        ...(this.auth.issuer ? { issuer: this.auth.issuer } : {}),
        ...(this.auth.audience ? { audience: this.auth.audience } : {}),
        ...(this.auth.requireExp ? { requiredClaims: ['exp'] } : {}),
        ...(this.auth.maxTokenAgeSec > 0 ? { maxTokenAge: this.auth.maxTokenAgeSec } : {}),
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new VoiceError('token_expired', 'the bearer token has expired');
      throw new VoiceError('unauthorized', `invalid bearer token (${(err as Error).message})`);
    }
  }
}

/**
 * Every request gets a principal; with auth on, a request without a valid token is refused (401)
 * before any route or WebSocket upgrade runs, except on `auth.openPaths`.
 */
export async function registerAuth(
  app: FastifyInstance,
  auth: Config['auth'],
  logger: Logger,
  failuresPerMinute = 30,
  /** Paths whose requests prove themselves otherwise (Twilio's signature): served without a token. */
  signedPaths: readonly string[] = [],
): Promise<void> {
  app.decorateRequest('principal', null as unknown as Principal);
  if (!auth.enabled) {
    logger.warn('authentication is off: every client is trusted (set auth.enabled for production)');
    app.addHook('onRequest', (request, _reply, done) => {
      request.principal = anonymous(request.ip);
      done();
    });
    return;
  }
  const verifier = await TokenVerifier.create(auth);
  const open = new Set([...auth.openPaths, ...WEB_PATHS, ...signedPaths]);
  const failures = new FailureWindow(failuresPerMinute);
  app.addHook('onRequest', async (request, reply) => {
    const retryAfterSec = failures.blockedFor(request.ip);
    if (retryAfterSec > 0) {
      void reply.header('retry-after', String(retryAfterSec));
      throw new VoiceError(
        'rate_limited',
        `more than ${failuresPerMinute} requests without a valid token this minute from this address; retry in ${retryAfterSec} s`,
      );
    }
    try {
      await authenticate(request);
    } catch (err) {
      failures.add(request.ip);
      throw err;
    }
  });

  const authenticate = async (request: FastifyRequest) => {
    const path = request.url.split('?')[0]!;
    const token = tokenOf(request);
    if (!token) {
      if (open.has(path)) {
        request.principal = anonymous(request.ip);
        return;
      }
      throw new VoiceError(
        'unauthorized',
        'a bearer token is required (Authorization header, ?token= or subprotocol)',
      );
    }
    const payload = await verifier.verify(token);
    // Conversations belong to the subject: a token without one would own nothing of its own.
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new VoiceError('unauthorized', 'the bearer token has no "sub" (subject) claim');
    request.principal = {
      key: `token:${payload.sub}`,
      subject: payload.sub,
      owner: `sub:${payload.sub}`,
      ...(payload.exp !== undefined ? { expiresAt: payload.exp * 1000 } : {}),
      scopes: scopesOf(payload),
    };
  };
}

/**
 * Failed authentications per client address in one-minute windows. Guessing tokens costs a
 * signature check each; past the limit the address is refused without one until the window ends.
 */
class FailureWindow {
  private windowStart = Date.now();
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  private roll() {
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.counts.clear();
    }
  }

  add(ip: string) {
    this.roll();
    this.counts.set(ip, (this.counts.get(ip) ?? 0) + 1);
  }

  /** Seconds until `ip` may try again (0: now). */
  blockedFor(ip: string): number {
    this.roll();
    if ((this.counts.get(ip) ?? 0) < this.max) return 0;
    return Math.max(1, Math.ceil((this.windowStart + 60_000 - Date.now()) / 1000));
  }
}
