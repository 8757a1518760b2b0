import { describe, expect, it } from 'vitest';
import { FakeLlm, FakeTts } from '../testing/fake-engines.js';
import { LaneQueue } from './lanes.js';
import type { LlmEngine } from './llm/types.js';
import { ScheduledLlm, ScheduledTts } from './scheduled.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

async function answer(llm: LlmEngine, name: string, order: string[], priority: 'live' | 'batch') {
  for await (const event of llm.chat([{ role: 'user', content: name }], { priority }))
    if (event.type === 'done') order.push(name);
}

describe('ScheduledLlm', () => {
  it('liveAnswerGoesBeforeQueuedHttpAnswers: a voice turn waits for the answer being written, not for the queue', async () => {
    const fake = new FakeLlm(() => ({ tokens: ['a', 'b', 'c'], tokenMs: 10 }));
    fake.serial = true;
    const llm = new ScheduledLlm(fake, new LaneQueue());
    const order: string[] = [];
    const all = [answer(llm, 'http1', order, 'batch'), answer(llm, 'http2', order, 'batch')];
    all.push(answer(llm, 'http3', order, 'batch'));
    await tick(2);
    all.push(answer(llm, 'voice', order, 'live'));
    await Promise.all(all);
    expect(order).toEqual(['http1', 'voice', 'http2', 'http3']);
  });

  it('a prefill runs only on an idle engine, and an answer asked meanwhile waits for it (it reads the same prompt)', async () => {
    const fake = new FakeLlm(() => ({ tokens: ['a', 'b'], tokenMs: 10 }));
    fake.prefillMs = 30;
    const llm = new ScheduledLlm(fake, new LaneQueue());
    const order: string[] = [];
    const busy = answer(llm, 'http', order, 'batch');
    await tick(2);
    expect(await llm.prefill([{ role: 'user', content: 'x' }])).toBe(false);
    await busy;
    const prefill = llm
      .prefill([{ role: 'user', content: 'x' }])
      .then((done) => order.push(`prefill ${done}`));
    await tick(2);
    await answer(llm, 'voice', order, 'live');
    await prefill;
    expect(order).toEqual(['http', 'prefill true', 'voice']);
    expect(fake.prefills.map((p) => p.completed)).toEqual([true]);
  });

  it('an answer whose caller gave up frees the queue even when the engine ignores the abort', async () => {
    let unblock!: () => void;
    const hangUntil = new Promise<void>((r) => (unblock = r));
    const fake = new FakeLlm((call) => (call === 0 ? { hangAfter: 0, hangUntil } : {}));
    const llm = new ScheduledLlm(fake, new LaneQueue());
    const controller = new AbortController();
    const events = llm.chat([{ role: 'user', content: 'x' }], { signal: controller.signal });
    const stuck = events[Symbol.asyncIterator]();
    const first = stuck.next();
    await tick(5);
    controller.abort(new Error('barge-in'));
    const order: string[] = [];
    await answer(llm, 'next', order, 'live');
    expect(order).toEqual(['next']);
    unblock();
    await first;
  });

  it('onStart is called when the answer leaves the queue, onQueued only when it waits', async () => {
    const llm = new ScheduledLlm(
      new FakeLlm(() => ({ tokens: ['a'], tokenMs: 20, firstTokenMs: 20 })),
      new LaneQueue(),
    );
    const seen: string[] = [];
    const run = async (name: string) => {
      const events = llm.chat([{ role: 'user', content: name }], {
        priority: 'batch',
        onQueued: () => seen.push(`${name} queued`),
        onStart: () => seen.push(`${name} started`),
      });
      for await (const _ of events);
      seen.push(`${name} done`);
    };
    await Promise.all([run('a'), run('b')]);
    expect(seen).toEqual(['a started', 'b queued', 'a done', 'b started', 'b done']);
  });
});

describe('ScheduledTts', () => {
  it('httpSpeechDoesNotStarveVoiceTurns: with six long HTTP texts speaking, a voice turn sentence goes next', async () => {
    const fake = new FakeTts((_, text) => (text === 'long' ? { chunks: 10, chunkMs: 10 } : { delayMs: 5 }));
    fake.serial = true;
    const tts = new ScheduledTts(fake, new LaneQueue());
    const order: string[] = [];
    const http = Array.from({ length: 6 }, async () => {
      for await (const _ of tts.synthesize('long', { priority: 'batch' })) order.push('long');
    });
    await tick(35);
    const before = order.length;
    for await (const _ of tts.synthesize('voice', { priority: 'live' })) order.push('voice');
    await Promise.all(http);
    // Only the sentence being synthesized when the voice turn asked is ahead of it (FIFO: six).
    expect(order.indexOf('voice') - before).toBeLessThanOrEqual(1);
    expect(order.filter((o) => o === 'long')).toHaveLength(60);
  });
});
