import type { SharedLimits } from './shared-limits.js';

type Incr = (err: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit that counts in the shared Redis, so that every instance sees one
 * count per key (the plugin's own RedisStore would let a Redis failure through as a 500). With
 * Redis down the limits' fail mode applies: uncounted (`open`) or `limits_unavailable` (`closed`).
 */
export function sharedRateLimitStore(limits: SharedLimits, windowMs: number) {
  return class SharedRateLimitStore {
    // The plugin passes its window as a third argument; its types do not say so.
    incr(key: string, callback: Incr, timeWindow = windowMs): void {
      limits.countRequest(key, timeWindow).then(
        (counted) => callback(null, counted ?? { current: 0, ttl: timeWindow }),
        (err: Error) => callback(err),
      );
    }

    child(): SharedRateLimitStore {
      return this;
    }
  };
}
