import { describe, expect, it } from 'vitest';
import { LaneQueue } from './lanes.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('LaneQueue', () => {
  it('runs one job at a time, live jobs before queued batch jobs', async () => {
    const q = new LaneQueue();
    const order: string[] = [];
    const job =
      (name: string, ms = 10) =>
      () =>
        tick(ms).then(() => void order.push(name));
    const all = [
      q.run('batch', job('b1')),
      q.run('batch', job('b2')),
      q.run('batch', job('b3')),
      q.run('live', job('l1')),
    ];
    await Promise.all(all);
    // b1 was running when the others arrived (and did not step aside: no onPreempt).
    expect(order).toEqual(['b1', 'l1', 'b2', 'b3']);
    await q.drain();
  });

  it('asks a running batch job to step aside when a live job arrives, then runs it again first', async () => {
    const q = new LaneQueue();
    const order: string[] = [];
    let runs = 0;
    const batch = (): Promise<string> =>
      q.run(
        'batch',
        (slot) =>
          new Promise<string>((resolve) => {
            runs++;
            const t = setTimeout(() => resolve('done'), 50);
            slot.onPreempt = () => {
              clearTimeout(t);
              resolve('preempted');
            };
          }),
        { front: runs > 0 },
      );
    const result = await Promise.all([
      (async () => {
        let r = await batch();
        while (r === 'preempted') {
          order.push('batch stepped aside');
          r = await batch();
        }
        order.push('batch done');
        return r;
      })(),
      tick(10).then(() => q.run('live', () => tick(5).then(() => void order.push('live')))),
    ]);
    expect(result[0]).toBe('done');
    expect(order).toEqual(['batch stepped aside', 'live', 'batch done']);
    expect(runs).toBe(2);
    await q.drain();
  });

  it('a failed job does not stop the next', async () => {
    const q = new LaneQueue();
    await expect(q.run('live', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(q.run('live', () => Promise.resolve(1))).resolves.toBe(1);
  });

  it('serves partials after live jobs and before batch jobs; a live job preempts a partial, a batch job does not', async () => {
    const q = new LaneQueue();
    const order: string[] = [];
    const preempted: string[] = [];
    const job =
      (name: string, ms = 10) =>
      (slot: { onPreempt: (() => void) | undefined }) => {
        slot.onPreempt = () => void preempted.push(name);
        return tick(ms).then(() => void order.push(name));
      };
    const all = [q.run('partial', job('p1', 30))];
    await tick(5);
    all.push(q.run('batch', job('b1')), q.run('partial', job('p2')));
    expect(preempted).toEqual([]);
    all.push(q.run('live', job('l1')));
    expect(preempted).toEqual(['p1']);
    await Promise.all(all);
    expect(order).toEqual(['p1', 'l1', 'p2', 'b1']);
    await q.drain();
  });
});
