import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { TtsEngine } from '../src/engines/tts/types.js';
import type { ServerEvent } from '../src/protocol/server-events.js';
import type { buildServer } from '../src/server.js';
import { FakeLlm, FakeStt, FakeTts } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { FaultPlan, faultyLlm, faultyStt, faultyTts, type Fault } from '../src/testing/faults.js';
import { listenForTest } from './helpers.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';

/**
 * Fault injection through a real socket: an STT, LLM or voice that throws, hangs or answers
 * garbage in the middle of a voice turn. Each time the turn fails with an error code, the session
 * answers the next turn, and a hung engine shows in /ready until it lets go.
 */
const config = loadConfig({
  env: {},
  overrides: {
    vad: { minSpeechMs: 64, minSilenceMs: 200, prefixPaddingMs: 100 },
    realtime: {
      sttTimeoutMs: 400,
      firstTokenTimeoutMs: 400,
      ttsTimeoutMs: 400,
      maxMessagesPerSec: 100_000,
      sentenceCacheSize: 0,
    },
    engines: { stuckAfterMs: 300 },
  },
});
const plan = new FaultPlan();
let app: Awaited<ReturnType<typeof buildServer>>;
let base: string;

beforeAll(async () => {
  const tts = faultyTts(new FakeTts(), plan);
  const runtime = await fakeRuntime(
    {
      stt: faultyStt(new FakeStt(() => ({ text: 'Allume la lumière.' })), plan),
      llm: faultyLlm(
        new FakeLlm(() => ({ tokens: ['Bien ', 'sûr. ', 'Voilà ', 'qui ', 'est ', 'fait.'] })),
        plan,
      ),
      voices: new Map<string, TtsEngine>([['fake', tts]]),
    },
    config,
  );
  const server = await listenForTest(config, runtime);
  app = server.app;
  base = server.base.replace('http://', '');
});
afterAll(() => app?.close());

/** 20 ms frames of 24 kHz PCM16: a loud tone (speech for the energy VAD) or silence. */
function frames(ms: number, loud: boolean): object[] {
  const pcm = Buffer.alloc(480 * 2);
  if (loud) for (let i = 0; i < 480; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), i * 2);
  const audio = pcm.toString('base64');
  return Array.from({ length: ms / 20 }, () => ({ type: 'input_audio_buffer.append', audio }));
}

/** Speaks one turn and returns its response.done. */
async function turn(client: RealtimeTestClient): Promise<ServerEvent> {
  const n = client.of('response.done').length + 1;
  for (const f of [...frames(400, true), ...frames(400, false)]) client.send(f);
  return client.waitFor('response.done', { n, timeoutMs: 5000 });
}

const statusOf = (done: ServerEvent) =>
  done.response as { status: string; status_details?: { error?: { code: string } } };

const ready = async () => {
  const res = await fetch(`http://${base}/ready`);
  return { status: res.status, body: (await res.json()) as { engines: Record<string, { state: string }> } };
};

describe('fault injection: engines that throw, hang or answer garbage mid-turn', () => {
  const cases: [stage: 'stt' | 'llm' | 'tts', fault: Fault, code: string][] = [];
  for (const stage of ['stt', 'llm', 'tts'] as const)
    for (const [fault, code] of [
      ['throw', 'engine_failed'],
      ['hang', 'timeout'],
      ['garbage', 'engine_failed'],
    ] as const)
      cases.push([stage, fault, code]);

  it.each(cases)(
    '%s that %s: the turn fails with %s, the next turn is answered',
    async (stage, fault, code) => {
      const client = await RealtimeTestClient.connect(`ws://${base}/v1/realtime`);
      try {
        await client.waitFor('session.created');
        plan[stage].push(fault);
        const failed = statusOf(await turn(client));
        expect(failed.status).toBe('failed');
        expect(failed.status_details?.error?.code).toBe(code);
        if (fault === 'hang') {
          // The hung call ignores its cancel: /ready names the engine until it lets go.
          await new Promise((r) => setTimeout(r, 400));
          const stuck = await ready();
          expect(stuck.status).toBe(503);
          expect(stuck.body.engines[stage]!.state).toBe('stuck');
          plan.unhang();
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(statusOf(await turn(client)).status).toBe('completed');
        expect(client.closed).toBeUndefined();
        const after = await ready();
        expect(after.body.engines[stage]!.state).not.toBe('stuck');
      } finally {
        plan.unhang();
        await client.close();
      }
    },
  );
});
