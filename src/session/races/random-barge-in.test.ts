import { describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../protocol/server-events.js';
import { FakeLlm, FakeStt, FakeTts } from '../../testing/fake-engines.js';
import { SessionHarness } from '../../testing/session-harness.js';
import { prng } from '../../testing/prng.js';

type Phase = 'before filler' | 'during STT' | 'during LLM' | 'during TTS' | 'during playback';

const SESSIONS = 8;
const TURNS_PER_SESSION = 125;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statusOf = (e: ServerEvent) => (e.response as { status: string }).status;

/**
 * One session interrupted `turns` times at a random moment of its answer, then asked once more
 * without interruption. Returns the phase each barge-in landed in.
 */
async function run(seed: number, turns: number): Promise<{ phases: Phase[]; h: SessionHarness }> {
  const random = prng(seed);
  const between = (lo: number, hi: number) => lo + Math.round(random() * (hi - lo));
  const stt = new FakeStt(() => ({ text: 'Allume la lumière.', delayMs: between(1, 60) }));
  const llm = new FakeLlm(() => ({
    tokens: ['Bien sûr, ', 'je ', "l'allume. ", 'Autre ', 'chose ?'],
    firstTokenMs: between(1, 60),
    tokenMs: between(1, 15),
  }));
  const tts = new FakeTts(() => ({ delayMs: between(1, 120), msPerChar: 8 }));
  const h = await SessionHarness.create({
    stt,
    llm,
    tts,
    // Audio goes faster than real time here (the input rate limits are not what is tested); no
    // sentence cache, so that every answer is synthesized.
    config: {
      realtime: {
        fillerDelayMs: 20,
        maxAudioSpeed: 100,
        audioBurstSec: 3600,
        maxMessagesPerSec: 100_000,
        sentenceCacheSize: 0,
      },
    },
  });
  const phases: Phase[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const mark = h.events.length;
    const llmCalls = llm.calls.length;
    const ttsCalls = tts.calls.length;
    await h.turn();
    await sleep(between(0, 250));
    const since = h.events.slice(mark).map((e) => e.type);
    const answerTts = tts.calls.slice(ttsCalls).some((t) => t !== 'Hum.');
    phases.push(
      since.includes('response.output_audio_transcript.delta')
        ? 'during playback'
        : answerTts
          ? 'during TTS'
          : llm.calls.length > llmCalls
            ? 'during LLM'
            : since.includes('conversation.item.input_audio_transcription.completed') ||
                since.includes('response.output_audio.delta')
              ? 'during STT'
              : 'before filler',
    );
    // The next turn's speech is the barge-in.
  }
  const mark = h.events.length;
  await h.turn();
  // The interrupted answer's response.done may come after the mark too: the new one completes.
  await h
    .waitFor('response.done', 1, 10_000, (e) => h.events.indexOf(e) >= mark && statusOf(e) === 'completed')
    .catch((err: unknown) => {
      const codes = h
        .of('error')
        .map((e) => JSON.stringify(e.error))
        .slice(0, 3);
      throw new Error(`seed ${seed}: ${codes.join(' ')} ${(err as Error).message.slice(-300)}`);
    });
  await h.settled();
  expect(statusOf(h.of('response.done').at(-1)!), `seed ${seed}`).toBe('completed');
  return { phases, h };
}

describe('race: randomized barge-in (1,000 turns interrupted at a random moment)', () => {
  it('every session answers the turn after any interruption, with one response.done per response', async () => {
    const base = Date.now() % 100_000;
    const results = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) => run(base + i, TURNS_PER_SESSION)),
    );
    const count = new Map<Phase, number>();
    for (const { phases, h } of results) {
      for (const p of phases) count.set(p, (count.get(p) ?? 0) + 1);
      const created = h.of('response.created').length;
      expect(h.of('response.done')).toHaveLength(created);
      expect(created).toBeGreaterThan(TURNS_PER_SESSION / 2);
      expect(h.session.state.state).toBe('listening');
      expect(h.of('error').map((e) => (e.error as { code: string }).code)).toEqual([]);
      expect(h.closedWith).toBeUndefined();
    }
    console.log(
      `random barge-in, seeds ${base}..${base + SESSIONS - 1}: ${JSON.stringify(Object.fromEntries(count))}`,
    );
    // Every phase of a turn was hit (seeds ${base}..${base + SESSIONS - 1}).
    for (const phase of [
      'before filler',
      'during STT',
      'during LLM',
      'during TTS',
      'during playback',
    ] as Phase[])
      expect(count.get(phase) ?? 0, `${phase}: ${JSON.stringify([...count])}`).toBeGreaterThan(10);
  }, 240_000);
});
