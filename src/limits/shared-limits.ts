import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';

export type FailMode = 'open' | 'closed';

export interface SharedLimitsOptions {
  failMode: FailMode;
  /** Longest a Redis command may take before it counts as failed. */
  timeoutMs: number;
  /** How long a session's lease lives without renewal: an instance that dies frees its sessions then. */
  leaseMs?: number;
  logger: Logger;
  /** Each Redis failure, by what it was counting (metrics). */
  onError?: (operation: 'rate' | 'session') => void;
}

export interface LimitsStatus {
  engine: 'redis';
  state: 'ok' | 'unavailable';
  failMode: FailMode;
  error?: string;
}

/** A session counted in Redis until released (renewed meanwhile, so a dead instance's expire). */
export interface SessionLease {
  release(): void;
}

const PREFIX = 'voice:';
/** Adds the lease if the key has room once expired leases are dropped: 1 admitted, 0 full. */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;
/** The fixed-window counter of @fastify/rate-limit's RedisStore: [count, ms left in the window]. */
const RATE = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) return {current, tonumber(ARGV[1])} end
return {current, redis.call('PTTL', KEYS[1])}
`;

type Counted = Redis & {
  voiceAcquire(
    key: string,
    now: number,
    expires: number,
    max: number,
    member: string,
    ttl: number,
  ): Promise<number>;
  voiceRate(key: string, windowMs: number): Promise<[number, number]>;
};

/**
 * Limits counted across every instance of the service in one Redis: the requests per minute of
 * `http.requestsPerMinute` (a store for @fastify/rate-limit) and the concurrent sessions per token
 * of `auth.maxSessionsPerToken` (leases in a sorted set per token, renewed while the session is
 * open). Redis down: `open` lets the work through uncounted, `closed` refuses it with
 * `limits_unavailable`; either way it is logged (at most every 10 s) and counted.
 */
export class SharedLimits {
  private readonly redis: Counted;
  private readonly leases = new Map<string, string>();
  private readonly renewal: NodeJS.Timeout;
  private readonly leaseMs: number;
  private lastWarning = 0;
  private lastError: string | undefined;

  constructor(
    url: string,
    private readonly options: SharedLimitsOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.redis = new Redis(url, {
      // Commands fail at once while disconnected instead of queueing: the fail mode decides.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1000, options.timeoutMs * 4),
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    }) as Counted;
    this.redis.defineCommand('voiceAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    this.redis.defineCommand('voiceRate', { numberOfKeys: 1, lua: RATE });
    this.redis.on('error', (err: Error) => this.warn('connection', err));
    this.renewal = setInterval(() => void this.renew(), this.leaseMs / 3);
    this.renewal.unref();
  }

  /** Waits for the first connection (at most `ms`); the service starts either way. */
  async connected(ms: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.redis.once('ready', onReady);
    });
  }

  async status(): Promise<LimitsStatus> {
    const base = { engine: 'redis' as const, failMode: this.options.failMode };
    try {
      await this.redis.ping();
      return { ...base, state: 'ok' };
    } catch (err) {
      return { ...base, state: 'unavailable', error: (err as Error).message };
    }
  }

  /** Counts a request against `key`'s window: its count and the ms left; undefined when failing open. */
  async countRequest(key: string, windowMs: number): Promise<{ current: number; ttl: number } | undefined> {
    try {
      const [current, ttl] = await this.redis.voiceRate(`${PREFIX}rate:${key}`, windowMs);
      return { current, ttl };
    } catch (err) {
      this.failed('rate', err);
      return undefined;
    }
  }

  /**
   * A session lease for `key` if it has fewer than `max` open across instances; undefined when
   * it has `max` already. Redis down: an uncounted lease (`open`) or `limits_unavailable`.
   */
  async acquireSession(key: string, max: number): Promise<SessionLease | undefined> {
    const member = randomUUID();
    const redisKey = `${PREFIX}sessions:${key}`;
    try {
      const now = Date.now();
      const admitted = await this.redis.voiceAcquire(
        redisKey,
        now,
        now + this.leaseMs,
        max,
        member,
        this.leaseMs,
      );
      if (admitted !== 1) return undefined;
    } catch (err) {
      this.failed('session', err);
      return { release: () => undefined };
    }
    this.leases.set(member, redisKey);
    return {
      release: () => {
        if (!this.leases.delete(member)) return;
        this.redis.zrem(redisKey, member).catch((err: Error) => this.warn('release', err));
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.renewal);
    const pending = [...this.leases].map(([member, key]) =>
      this.redis.zrem(key, member).catch(() => undefined),
    );
    this.leases.clear();
    await Promise.all(pending);
    this.redis.disconnect();
  }

  private async renew() {
    if (this.leases.size === 0) return;
    const expires = Date.now() + this.leaseMs;
    const batch = this.redis.multi();
    for (const [member, key] of this.leases) {
      batch.zadd(key, 'XX', expires, member);
      batch.pexpire(key, this.leaseMs);
    }
    await batch.exec().catch((err: Error) => this.warn('renew', err));
  }

  /** Applies the fail mode to a failed Redis call. */
  private failed(operation: 'rate' | 'session', err: unknown): void {
    this.options.onError?.(operation);
    this.warn(operation, err as Error);
    if (this.options.failMode === 'closed')
      throw new VoiceError(
        'limits_unavailable',
        'the shared limits (Redis) cannot be reached and limits.redisFailMode is closed; retry shortly',
        { cause: err },
      );
  }

  private warn(operation: string, err: Error) {
    const now = Date.now();
    if (err.message === this.lastError && now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.lastError = err.message;
    this.options.logger.warn(
      { operation, err: err.message, failMode: this.options.failMode },
      this.options.failMode === 'open'
        ? 'shared limits: Redis unreachable, requests and sessions go uncounted (fail open)'
        : 'shared limits: Redis unreachable, requests and sessions are refused (fail closed)',
    );
  }
}
