import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../src/config.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { startRedis, type RedisServer } from './redis-server.js';

/**
 * Limits counted across instances: two instances of the service (scripted engines) share one
 * real Redis; a third setting per test says how they behave when it is down.
 */
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(() => redis?.stop());

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  if (redis) await redis.start().catch(() => undefined);
});

async function instance(overrides: ConfigInput) {
  const config = loadConfig({
    env: {},
    overrides: { ...overrides, limits: { redisUrl: redis.url, redisTimeoutMs: 200, ...overrides.limits } },
  });
  const started = await listenOnLoopback(config, await fakeRuntime());
  apps.push(started.app);
  return started;
}

const status = (url: string) => fetch(url).then((r) => r.status);
const json = (url: string) =>
  fetch(url).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

describe('shared limits in Redis', () => {
  it('requestsSpreadOverInstancesHitOneLimit: 429 at the configured count over both instances, not twice it', async () => {
    const a = await instance({ http: { requestsPerMinute: 10 } });
    const b = await instance({ http: { requestsPerMinute: 10 } });
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) statuses.push(await status(`${i % 2 ? a.base : b.base}/v1/models`));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual(Array(6).fill(429));
    const refused = await fetch(`${a.base}/v1/models`);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });

  it('sessionsPerTokenCountedAcrossInstances: the third session of a token is refused on either instance, and admitted once one closes', async () => {
    const a = await instance({ auth: { maxSessionsPerToken: 2 } });
    const b = await instance({ auth: { maxSessionsPerToken: 2 } });
    const ws = (base: string) => `${base.replace('http', 'ws')}/v1/realtime`;
    const first = await RealtimeTestClient.connect(ws(a.base));
    await first.waitFor('session.created');
    const second = await RealtimeTestClient.connect(ws(b.base));
    await second.waitFor('session.created');
    for (const base of [a.base, b.base]) {
      const third = await RealtimeTestClient.connect(ws(base));
      const error = await third.waitFor('error');
      expect((error.error as { code: string }).code).toBe('session_limit_reached');
      await third.waitForClose();
      expect(third.closed?.code).toBe(1013);
    }
    await first.close();
    // The lease is released when the socket closes on the server, a moment after the client's close.
    let again: RealtimeTestClient | undefined;
    for (let i = 0; i < 50 && !again; i++) {
      const c = await RealtimeTestClient.connect(ws(b.base));
      const e = await Promise.race([c.waitFor('session.created'), c.waitFor('error')]);
      if (e.type === 'session.created') again = c;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(again).toBeDefined();
    await again!.close();
    await second.close();
  });

  it('redisDownFailOpen: requests and sessions are served uncounted, counted as errors, /ready stays 200 naming the fail mode', async () => {
    const a = await instance({ http: { requestsPerMinute: 3 }, limits: { redisFailMode: 'open' } });
    await redis.stop();
    for (let i = 0; i < 5; i++) expect(await status(`${a.base}/v1/models`)).toBe(200);
    const client = await RealtimeTestClient.connect(`${a.base.replace('http', 'ws')}/v1/realtime`);
    await client.waitFor('session.created');
    await client.close();
    const ready = await json(`${a.base}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.limits).toEqual(
      expect.objectContaining({ engine: 'redis', state: 'unavailable', failMode: 'open' }),
    );
    const metrics = await fetch(`${a.base}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/voice_limits_redis_errors_total\{operation="rate"\} [1-9]/);
    expect(metrics).toMatch(/voice_limits_redis_errors_total\{operation="session"\} 1/);
  });

  it('redisDownFailClosed: 503 limits_unavailable and /ready 503 naming the fail mode, served again once Redis is back, without a restart', async () => {
    const a = await instance({ http: { requestsPerMinute: 100 }, limits: { redisFailMode: 'closed' } });
    expect(await status(`${a.base}/v1/models`)).toBe(200);
    await redis.stop();
    const refused = await fetch(`${a.base}/v1/models`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('limits_unavailable');
    const ready = await json(`${a.base}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/shared limits unavailable \(Redis\), fail mode closed/);
    await redis.start();
    let back = 0;
    for (let i = 0; i < 100 && back !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = (await json(`${a.base}/ready`)).status;
    }
    expect(back).toBe(200);
    expect(await status(`${a.base}/v1/models`)).toBe(200);
  }, 30_000);
});
