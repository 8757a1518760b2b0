import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../log.js';
import { FakeLlm, type LlmScript } from '../../testing/fake-engines.js';
import { LlmPool, type PoolEndpoint } from './pool.js';
import type { LlmEvent } from './types.js';

/** An endpoint over a scripted LLM whose connect and ping fail while `down` is set. */
class FakeEndpoint implements PoolEndpoint {
  down = false;
  readonly llm: FakeLlm;
  constructor(
    readonly name: string,
    script?: (call: number) => LlmScript,
  ) {
    this.llm = new FakeLlm(script);
  }
  connect() {
    return this.down ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(this.llm);
  }
  ping() {
    return this.down ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve();
  }
}

const options = { healthIntervalMs: 60_000, firstTokenTimeoutMs: 200, logger: silentLogger };
const ask = [{ role: 'user' as const, content: 'Bonjour' }];

async function answer(pool: LlmPool, signal?: AbortSignal) {
  const events: LlmEvent[] = [];
  for await (const e of pool.chat(ask, signal ? { signal } : {})) events.push(e);
  const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
  return { text, done: events.at(-1) as Extract<LlmEvent, { type: 'done' }> };
}

describe('LlmPool', () => {
  it('least outstanding: answers at once go to different endpoints, one after another alternate', async () => {
    const a = new FakeEndpoint('a', () => ({ tokens: ['A'], firstTokenMs: 30 }));
    const b = new FakeEndpoint('b', () => ({ tokens: ['B'], firstTokenMs: 30 }));
    const pool = await LlmPool.connect([a, b], options);
    const together = await Promise.all([answer(pool), answer(pool)]);
    expect(together.map((r) => r.text).sort()).toEqual(['A', 'B']);
    const oneByOne = [await answer(pool), await answer(pool), await answer(pool), await answer(pool)];
    expect(oneByOne.map((r) => r.text).sort()).toEqual(['A', 'A', 'B', 'B']);
    await pool.close();
  });

  it('retryBeforeFirstToken: an endpoint that fails before its first token is marked down and the answer comes from the next', async () => {
    const a = new FakeEndpoint('a', () => ({ tokens: ['A'], failAfter: 0 }));
    const b = new FakeEndpoint('b', () => ({ tokens: ['B'] }));
    const pool = await LlmPool.connect([a, b], options);
    expect((await answer(pool)).text).toBe('B');
    expect((await answer(pool)).text).toBe('B');
    const [sa, sb] = pool.stats();
    expect(sa).toMatchObject({ endpoint: 'a', up: false, lastError: 'scripted LLM failure' });
    expect(sa!.outcomes.failed).toBe(1);
    expect(sb!.outcomes.ok).toBe(2);
    await pool.close();
  });

  it('noFirstTokenInTime: an endpoint silent past firstTokenTimeoutMs is left for the next; the timing counts the wait', async () => {
    const a = new FakeEndpoint('a', () => ({ tokens: ['A'], firstTokenMs: 5000 }));
    const b = new FakeEndpoint('b', () => ({ tokens: ['B'], firstTokenMs: 10 }));
    const pool = await LlmPool.connect([a, b], options);
    const { text, done } = await answer(pool);
    expect(text).toBe('B');
    expect(done.finishReason).toBe('stop');
    expect(done.timing.firstTokenMs).toBeGreaterThanOrEqual(200);
    expect(pool.stats()[0]!.outcomes.timeout).toBe(1);
    await pool.close();
  });

  it('a failure after the first token is not retried (the start was already said)', async () => {
    const a = new FakeEndpoint('a', () => ({ tokens: ['A', 'x'], failAfter: 1 }));
    const b = new FakeEndpoint('b', () => ({ tokens: ['B'] }));
    const pool = await LlmPool.connect([a, b], options);
    await expect(answer(pool)).rejects.toThrow('scripted LLM failure');
    expect(b.llm.calls).toHaveLength(0);
    expect(pool.stats()[0]!.outcomes.failed_after_start).toBe(1);
    await pool.close();
  });

  it('an abort by the caller ends the answer as aborted, not retried', async () => {
    const a = new FakeEndpoint('a', () => ({ tokens: ['A'], firstTokenMs: 100 }));
    const b = new FakeEndpoint('b', () => ({ tokens: ['B'] }));
    const pool = await LlmPool.connect([a, b], options);
    const { text, done } = await answer(pool, AbortSignal.timeout(20));
    expect(text).toBe('');
    expect(done.finishReason).toBe('aborted');
    expect(b.llm.calls).toHaveLength(0);
    await pool.close();
  });

  it('every endpoint failing is engine_unavailable naming them; none up at start refuses to load', async () => {
    const a = new FakeEndpoint('a', () => ({ failAfter: 0 }));
    const b = new FakeEndpoint('b', () => ({ failAfter: 0 }));
    const pool = await LlmPool.connect([a, b], options);
    await expect(answer(pool)).rejects.toMatchObject({ code: 'engine_unavailable' });
    await pool.close();
    a.down = b.down = true;
    await expect(LlmPool.connect([a, b], options)).rejects.toMatchObject({ code: 'engine_unavailable' });
  });

  it('health checks: an endpoint down at start is connected once it answers, and takes answers again', async () => {
    const a = new FakeEndpoint('a', () => ({ tokens: ['A'], firstTokenMs: 30 }));
    const b = new FakeEndpoint('b', () => ({ tokens: ['B'], firstTokenMs: 30 }));
    b.down = true;
    const pool = await LlmPool.connect([a, b], options);
    expect((await Promise.all([answer(pool), answer(pool)])).map((r) => r.text)).toEqual(['A', 'A']);
    b.down = false;
    await pool.check();
    expect(pool.stats().map((s) => s.up)).toEqual([true, true]);
    expect((await Promise.all([answer(pool), answer(pool)])).map((r) => r.text).sort()).toEqual(['A', 'B']);
    a.down = true;
    await pool.check();
    expect(pool.stats()[0]!.up).toBe(false);
    await pool.close();
  });
});
