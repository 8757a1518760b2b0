import { describe, expect, it } from 'vitest';
import type { Transcript } from '../engines/stt/types.js';
import { silentLogger } from '../log.js';
import { FakeTurn, type TurnScript } from '../testing/fake-engines.js';
import { EAGERNESS, REASK_MS, semanticVad } from './semantic-vad.js';
import type { PauseView } from './types.js';

const transcript = (text: string): Transcript => ({
  text,
  language: 'fr',
  segments: [],
  timing: { audioSec: 1, vadMs: 0, decodeMs: 0, totalMs: 0, rtf: 0, audioCtx: 0 },
});

/** A pause at `silenceMs`, with a transcript (or one still running when `text` is null). */
function pause(silenceMs: number, text: string | null = 'Allume la lumière.'): PauseView {
  return {
    silenceMs,
    audio16k: () => new Float32Array(16000),
    transcript: () => (text === null ? undefined : transcript(text)),
    transcribing: () => text === null,
  };
}

function strategy(
  script: (call: number) => TurnScript,
  eagerness: 'low' | 'medium' | 'high' | 'auto' = 'auto',
) {
  const engine = new FakeTurn(script);
  const s = semanticVad({
    engine,
    eagerness,
    pauseMs: 200,
    speculative: true,
    language: 'fr',
    fallbackSilenceMs: 500,
    logger: silentLogger,
  });
  let wakes = 0;
  const woken = () =>
    new Promise<void>((resolve) => {
      const start = wakes;
      const poll = () => (wakes > start ? resolve() : setTimeout(poll, 1));
      poll();
    });
  return { s, engine, wake: () => wakes++, woken };
}

describe('semantic_vad', () => {
  it('waits for the model, then ends when it says complete and the transcript may end', async () => {
    const { s, wake, woken } = strategy(() => ({ probability: 0.9 }));
    s.paused(pause(200), wake);
    expect(s.decide(pause(200))).toEqual({ end: false });
    await woken();
    expect(s.decide(pause(230))).toEqual({ end: true, reason: 'model' });
  });

  it('waits for a speculative transcript still running', async () => {
    const { s, wake, woken } = strategy(() => ({ probability: 0.99 }));
    s.paused(pause(200, null), wake);
    await woken();
    expect(s.decide(pause(260, null))).toEqual({ end: false });
    expect(s.decide(pause(700, 'Allume la lumière.'))).toEqual({ end: true, reason: 'model' });
  });

  it('holds a transcript that stops on "dans le" until the longest silence, even when the model is sure', async () => {
    const { s, wake, woken } = strategy(() => ({ probability: 0.99 }));
    const text = 'Allume toutes les lumières dans le';
    s.paused(pause(200, text), wake);
    await woken();
    expect(s.decide(pause(700, text))).toEqual({ end: false });
    expect(s.decide(pause(1499, text))).toEqual({ end: false });
    expect(s.decide(pause(EAGERNESS.auto.maxSilenceMs, text))).toEqual({ end: true, reason: 'max_silence' });
  });

  it('asks again as the silence grows when the model is unsure, and ends once it is sure', async () => {
    const { s, engine, wake, woken } = strategy((call) => ({ probability: call === 0 ? 0.3 : 0.8 }));
    s.paused(pause(200), wake);
    await woken();
    expect(s.decide(pause(250))).toEqual({ end: false });
    expect(engine.calls).toHaveLength(1);
    expect(s.decide(pause(200 + REASK_MS))).toEqual({ end: false });
    expect(engine.calls).toHaveLength(2);
    await woken();
    expect(s.decide(pause(520))).toEqual({ end: true, reason: 'model' });
  });

  it('eagerness sets the threshold and the longest silence', async () => {
    const low = strategy(() => ({ probability: 0.7 }), 'low');
    low.s.paused(pause(200), low.wake);
    await low.woken();
    expect(low.s.decide(pause(300))).toEqual({ end: false });
    expect(low.s.decide(pause(2999))).toEqual({ end: false });
    expect(low.s.decide(pause(3000))).toEqual({ end: true, reason: 'max_silence' });
    const high = strategy(() => ({ probability: 0.35 }), 'high');
    high.s.paused(pause(200), high.wake);
    await high.woken();
    expect(high.s.decide(pause(300))).toEqual({ end: true, reason: 'model' });
    expect(high.s.maxSilenceMs).toBe(1000);
  });

  it('a failed model call falls back to the silence rule', async () => {
    const { s, wake, woken } = strategy(() => ({ fail: 'broken' }));
    s.paused(pause(200), wake);
    await woken();
    expect(s.decide(pause(300))).toEqual({ end: false });
    expect(s.decide(pause(500))).toEqual({ end: true, reason: 'silence' });
  });

  it('a result that lands after the user went on is ignored', async () => {
    const { s, wake, woken } = strategy(() => ({ probability: 0.99, delayMs: 10 }));
    s.paused(pause(200), wake);
    s.resumed();
    await new Promise((r) => setTimeout(r, 30));
    s.paused(pause(200), wake);
    expect(s.decide(pause(210))).toEqual({ end: false });
    await woken();
    expect(s.decide(pause(250))).toEqual({ end: true, reason: 'model' });
  });
});
