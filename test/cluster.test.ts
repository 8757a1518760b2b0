import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../src/protocol/server-events.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import {
  instancesBehind,
  serviceInstance,
  startHaproxy,
  waitReady,
  type Instance,
  type LoadBalancer,
} from './cluster.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';
import { startOllama, type OllamaServer } from './ollama-server.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';
import { startRedis, type RedisServer } from './redis-server.js';

/**
 * Several instances behind a real load balancer, all real and on loopback: PostgreSQL, Redis,
 * Ollama, HAProxy running deploy/haproxy.cfg, and two `voice serve` processes on the real engines
 * that share the database and the limits. A conversation survives the instance that served it,
 * whether it dies mid-turn (SIGKILL) or is stopped (SIGTERM: its answer finishes first).
 */
const REQUESTS_PER_MINUTE = 12;
let pg: PostgresServer;
let redis: RedisServer;
let ollama: OllamaServer;
let lb: LoadBalancer;
const instances: Instance[] = [];

beforeAll(async () => {
  requireSharedAssets();
  [pg, redis, ollama] = await Promise.all([startPostgres(), startRedis(), startOllama()]);
  const env = {
    MODELS_DIR,
    VOICE_STORE_URL: pg.url,
    VOICE_LIMITS_REDIS_URL: redis.url,
    VOICE_LLM_ENGINE: 'ollama',
    VOICE_LLM_OLLAMA_HOST: ollama.url,
    VOICE_LLM_OLLAMA_MODEL: ollama.model,
    VOICE_LLM_MAX_TOKENS: '24',
    VOICE_STT_THREADS: '1',
    VOICE_SERVER_TRUST_PROXY: '127.0.0.1',
    VOICE_HTTP_REQUESTS_PER_MINUTE: String(REQUESTS_PER_MINUTE),
    VOICE_SERVER_SHUTDOWN_DEADLINE_MS: '20000',
    // A killed instance's sessions keep their place in the shared count until their lease
    // expires (a minute): this file opens more than the default 4 in that time.
    VOICE_AUTH_MAX_SESSIONS_PER_TOKEN: '16',
  };
  instances.push(await serviceInstance(env), await serviceInstance(env));
  // Both start at once on the empty database: the migrations take turns.
  await Promise.all(instances.map((i) => i.start()));
  await Promise.all(instances.map((i) => waitReady(i.base)));
  lb = await startHaproxy(instances);
  await untilBehind(2);
}, 240_000);

afterAll(async () => {
  await lb?.stop();
  for (const i of instances) await i.kill();
  await Promise.all([pg?.destroy(), redis?.stop(), ollama?.stop()]);
});

/** Waits until HAProxy sends requests to `n` instances (its checks: rise 2 × 1 s). */
async function untilBehind(n: number) {
  for (let i = 0; i < 100; i++) {
    if ((await instancesBehind(lb)).size === n) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`HAProxy does not send to ${n} instances`);
}

/** Which instance holds the one open session (each instance's /health counts its own). */
async function servingInstance(): Promise<Instance> {
  for (let i = 0; i < 50; i++) {
    for (const instance of instances.filter((x) => x.running())) {
      const health = (await fetch(`${instance.base}/health`).then((r) => r.json())) as { sessions: number };
      if (health.sessions === 1) return instance;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no instance holds the session');
}

async function connect(sessionId?: string) {
  const query = sessionId ? `?session_id=${sessionId}` : '';
  const client = await RealtimeTestClient.connect(`${lb.base.replace('http', 'ws')}/v1/realtime${query}`);
  const created = await client.waitFor('session.created');
  // Text turns: no audio out, so that an answer is quick and the test is about the conversation.
  client.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
  await client.waitFor('session.updated');
  return { client, id: (created.session as { id: string }).id };
}

/** Sends a user message and asks for an answer; the n-th response.done ends it. */
function say(client: RealtimeTestClient, itemId: string, text: string) {
  client.send({
    type: 'conversation.item.create',
    item: { id: itemId, type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  client.send({ type: 'response.create' });
}

/** Waits for the first text of the n-th response (the turn is then in flight). */
async function firstDeltaOf(client: RealtimeTestClient, n: number) {
  const created = await client.waitFor('response.created', { n, timeoutMs: 60_000 });
  const id = (created.response as { id: string }).id;
  await client.waitFor('response.output_text.delta', {
    timeoutMs: 60_000,
    match: (e) => e.response_id === id,
  });
}

const doneOf = (e: ServerEvent) =>
  e.response as {
    status: string;
    output: { id: string; content: { text?: string; transcript?: string }[] }[];
  };

async function retrieve(client: RealtimeTestClient, itemId: string) {
  const before = client.of('conversation.item.retrieved').length + client.of('error').length;
  client.send({ type: 'conversation.item.retrieve', item_id: itemId });
  for (let i = 0; i < 100; i++) {
    const answers = [...client.of('conversation.item.retrieved'), ...client.of('error')].sort(
      (a, b) => a.at - b.at,
    );
    if (answers.length > before) return answers.at(-1)!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no answer to retrieving ${itemId}`);
}

const textOf = (e: ServerEvent) =>
  (e.item as { content: { text?: string; transcript?: string }[] } | undefined)?.content
    .map((c) => c.text ?? c.transcript ?? '')
    .join('');

describe('two instances behind HAProxy, sharing PostgreSQL and Redis', () => {
  it('requestsSpreadOverInstancesHitOneLimit: through HAProxy, 429 at the configured count, not twice it', async () => {
    // One client address (X-Forwarded-For, appended by HAProxy and trusted from it).
    const statuses: number[] = [];
    for (let i = 0; i < REQUESTS_PER_MINUTE + 8; i++)
      statuses.push(
        (await fetch(`${lb.base}/v1/models`, { headers: { 'x-forwarded-for': '10.9.9.9' } })).status,
      );
    expect(statuses.filter((s) => s === 200)).toHaveLength(REQUESTS_PER_MINUTE);
    expect(statuses.slice(REQUESTS_PER_MINUTE)).toEqual(Array(8).fill(429));
    // Both instances answered some of them.
    for (const instance of instances) {
      const metrics = await fetch(`${instance.base}/metrics`).then((r) => r.text());
      expect(metrics, instance.base).toMatch(
        /voice_http_request_duration_seconds_count\{[^}]*route="\/v1\/models"[^}]*status="200"\} [1-9]/,
      );
    }
  });

  it('instanceDiesMidTurn: the client reconnects through HAProxy to the other instance, which has the earlier history; only the turn in flight is lost', async () => {
    const { client, id } = await connect();
    say(client, 'u1', 'Je m’appelle Paul et mon code est 4321.');
    const first = doneOf(await client.waitFor('response.done', { timeoutMs: 60_000 }));
    expect(first.status).toBe('completed');
    const a1 = first.output[0]!.id;
    const served = await servingInstance();

    say(client, 'u2', 'Raconte-moi une longue histoire.');
    await firstDeltaOf(client, 2);
    await served.kill();
    await client.waitForClose();

    // HAProxy finds the dead instance refusing connections and sends the upgrade to the other.
    const resumed = await connect(id);
    expect(resumed.id).toBe(id);
    expect(await servingInstance()).not.toBe(served);
    const u1 = await retrieve(resumed.client, 'u1');
    expect(u1.type, JSON.stringify(u1)).toBe('conversation.item.retrieved');
    expect(textOf(u1), JSON.stringify(u1)).toContain('4321');
    const a1Item = await retrieve(resumed.client, a1);
    expect(a1Item.type, JSON.stringify(a1Item) + a1).toBe('conversation.item.retrieved');
    // The user's message of the cut turn was saved when it was made; the answer being written was not.
    const u2 = await retrieve(resumed.client, 'u2');
    expect(textOf(u2), JSON.stringify(u2)).toContain('histoire');
    say(resumed.client, 'u3', 'Quel est mon code ?');
    expect(doneOf(await resumed.client.waitFor('response.done', { timeoutMs: 60_000 })).status).toBe(
      'completed',
    );
    await resumed.client.close();

    await served.start();
    await waitReady(served.base);
    await untilBehind(2);
  }, 180_000);

  it('instanceStoppedMidTurn: SIGTERM lets the answer finish and saves it, then the client goes on on the other instance', async () => {
    const { client, id } = await connect();
    say(client, 'v1', 'Bonjour, je prépare un voyage à Lyon.');
    await firstDeltaOf(client, 1);
    const served = await servingInstance();
    const stopping = served.stop();
    // While it drains, new sessions through HAProxy open on the other instance (a 503
    // shutting_down from the draining one is retried there).
    const during = await Promise.all([connect(), connect(), connect()]);
    const done = doneOf(await client.waitFor('response.done', { timeoutMs: 60_000 }));
    expect(client.of('response.done')).toHaveLength(1);
    for (const d of during) await d.client.close();
    expect(done.status).toBe('completed');
    await client.waitForClose(30_000);
    expect(client.closed?.code).toBe(1001);
    await stopping;

    const resumed = await connect(id);
    expect(textOf(await retrieve(resumed.client, 'v1'))).toContain('Lyon');
    const answer = await retrieve(resumed.client, done.output[0]!.id);
    expect(answer.type).toBe('conversation.item.retrieved');
    expect(textOf(answer)?.length).toBeGreaterThan(0);
    await resumed.client.close();

    await served.start();
    await waitReady(served.base);
    await untilBehind(2);
  }, 180_000);
});
