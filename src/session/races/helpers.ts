import { expect } from 'vitest';
import type { ServerEvent } from '../../protocol/server-events.js';
import { FakeTurn, type FakeLlm, type FakeStt } from '../../testing/fake-engines.js';
import { SessionHarness } from '../../testing/session-harness.js';

/** 20 ms frames sent every 5 ms: background results land between frames, audio time leads. */
export const paced = { paceMs: 5 };

/** A semantic_vad session (the default once an end-of-turn model is loaded). */
export async function semanticSession(opts: {
  stt: FakeStt;
  llm?: FakeLlm;
  probability?: number;
  /** Partial transcripts every this much audio (off by default). */
  partialIntervalMs?: number;
}) {
  const turn = new FakeTurn(() => ({ probability: opts.probability ?? 0.95 }));
  const h = await SessionHarness.create({
    stt: opts.stt,
    ...(opts.llm ? { llm: opts.llm } : {}),
    turn,
    ...(opts.partialIntervalMs ? { config: { turns: { partialIntervalMs: opts.partialIntervalMs } } } : {}),
  });
  const td = (h.events[0]!.session as { audio: { input: { turn_detection: { type: string } } } }).audio.input
    .turn_detection;
  expect(td.type).toBe('semantic_vad');
  return { h, turn };
}

/** Nothing of a turn reached the wire before its commit: no response, filler, audio or stop. */
export function nothingBeforeCommit(h: SessionHarness, commitIndex = 0) {
  const types = h.types();
  const committed = types.indexOf('input_audio_buffer.committed');
  expect(committed).toBeGreaterThan(0);
  let seen = -1;
  for (let i = 0; i <= commitIndex; i++) seen = types.indexOf('input_audio_buffer.committed', seen + 1);
  const before = types.slice(0, seen);
  for (const t of ['response.created', 'response.output_audio.delta']) expect(before).not.toContain(t);
}

export const transcriptOf = (e: ServerEvent) => e.transcript as string;
