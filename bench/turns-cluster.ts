/**
 * `npm run bench:turns -- --instances [COUNTS]`: capacity through HAProxy (deploy/haproxy.cfg)
 * with one instance of the service, then two, sharing a real PostgreSQL and Redis. Each instance
 * runs `voice serve` on the real engines (embedded llama.cpp, one thread per engine) pinned to a
 * core of its own (`taskset`), as if each were a box: one instance gets core 0, two get cores 0
 * and 1. The client is the TRIADE capacity client: N sessions at once through HAProxy, each
 * streaming three French commands (after one unmeasured turn per instance); capacity = the most sessions whose p95 first answer audio (from
 * the user's last word) stays ≤ 2 s with none failing. COUNTS: session counts (default 1,2,3,4,6).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { serviceInstance, startHaproxy, waitReady, type Instance } from '../test/cluster.js';
import { startPostgres } from '../test/postgres-server.js';
import { startRedis } from '../test/redis-server.js';
import { MODELS_DIR } from '../src/testing/testaudio.js';
import { machineLine } from './lib.js';
import { KNEE_MS, sessionKnee, sessionSteps, type SessionStep } from './triade/capacity.js';

/** Commands each session streams per step: p95 over 3 × sessions turns. */
const TURNS = 3;

export async function compareInstances(countsArg: string | undefined): Promise<void> {
  const counts = (countsArg ?? '1,2,3,4,6').split(',').map(Number);
  const lines: string[] = [];
  const out = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  out(`# bench:turns --instances ${new Date().toISOString()}`);
  out(await machineLine('each instance pinned to one core: stt 1 thread, llm 1 thread (embedded llama.cpp)'));
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const env = {
    MODELS_DIR,
    VOICE_STORE_URL: pg.url,
    VOICE_LIMITS_REDIS_URL: redis.url,
    VOICE_LLM_ENGINE: 'llamacpp',
    VOICE_LLM_THREADS: '1',
    VOICE_STT_THREADS: '1',
    VOICE_SERVER_TRUST_PROXY: '127.0.0.1',
    VOICE_AUTH_MAX_SESSIONS_PER_TOKEN: '64',
  };
  const results: { instances: number; steps: SessionStep[]; knee: number }[] = [];
  for (const n of [1, 2]) {
    const instances: Instance[] = [];
    for (let i = 0; i < n; i++) instances.push(await serviceInstance(env, String(i)));
    await Promise.all(instances.map((i) => i.start()));
    await Promise.all(instances.map((i) => waitReady(i.base)));
    // One instance: both server lines of deploy/haproxy.cfg name it.
    const lb = await startHaproxy(n === 1 ? [instances[0]!, instances[0]!] : instances);
    await new Promise((r) => setTimeout(r, 2500)); // HAProxy's checks: rise 2 × 1 s
    const wsUrl = `${lb.base.replace('http', 'ws')}/v1/realtime`;
    // Every instance answers a turn first (its first one is slower: caches, allocations), unmeasured.
    await sessionSteps(instances[0]!.base, wsUrl, [2 * n], 1, () => undefined);
    // CPU figures: the first instance's own /metrics.
    const steps = await sessionSteps(instances[0]!.base, wsUrl, counts, TURNS, (s) =>
      console.log(`${n}: ${s}`),
    );
    results.push({ instances: n, steps, knee: sessionKnee(steps) });
    await lb.stop();
    for (const i of instances) await i.stop();
  }
  await pg.destroy();
  await redis.stop();

  out('');
  out(
    `| sessions | ${results.map((r) => `${r.instances} instance(s): p50 / p95 first answer audio`).join(' | ')} |`,
  );
  out(`|---|${results.map(() => '---').join('|')}|`);
  for (const [k, count] of counts.entries())
    out(
      `| ${count} | ${results
        .map((r) => {
          const s = r.steps[k]!;
          return `${s.firstAnswerAudioP50.toFixed(0)} / ${s.firstAnswerAudioP95.toFixed(0)} ms${s.failed + s.timeouts ? ` (${s.failed} failed, ${s.timeouts} timeouts)` : ''}`;
        })
        .join(' | ')} |`,
    );
  out('');
  out(
    `Capacity (p95 first answer audio ≤ ${KNEE_MS} ms, none failing): ${results.map((r) => `${r.instances} instance(s) ${r.knee} session(s)`).join(', ')}.`,
  );
  mkdirSync(new URL('reports', import.meta.url), { recursive: true });
  writeFileSync(new URL('reports/turns-instances.md', import.meta.url), `${lines.join('\n')}\n`);
}
