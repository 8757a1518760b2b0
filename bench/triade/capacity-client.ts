/**
 * The client half of the TRIADE capacity step, in its own process so that its clock is not held
 * up by the parent's polling: N voice sessions at once, each streaming `TURNS` French commands of
 * ../shared/testaudio at real-time pace, their starts spread over one command's length (people do
 * not all start speaking on the same frame). Usage (by bench/triade/capacity.ts): URL N TURNS.
 */
import { readWav } from '../../src/audio/wav.js';
import { RealtimeTestClient } from '../../src/testing/realtime-client.js';
import { frenchCommands } from '../../src/testing/testaudio.js';
import { cadence } from './cadence.js';

export interface CapacityMeasures {
  sessions: number;
  /** Client clock, ms from the user's last word to the first audio (the filler), per answered turn. */
  firstAudio: number[];
  /** … to the first answer audio (not the filler). */
  firstAnswerAudio: number[];
  underruns: number;
  /** Turns answered (`completed`), failed or refused, and waits for a response that timed out. */
  completed: number;
  failed: number;
  timeouts: number;
  errors: string[];
  wallMs: number;
}

const TURN_TIMEOUT_MS = 120_000;
const [url, nArg = '1', turnsArg = '2'] = process.argv.slice(2);
const n = Number(nArg);
const turns = Number(turnsArg);
const clips = frenchCommands();
const durations = await Promise.all(
  clips.map(async (c) => {
    const w = await readWav(c.path);
    return (w.samples.length / w.sampleRate) * 1000;
  }),
);
const stagger = durations.reduce((a, b) => a + b, 0) / durations.length / n;

const m: CapacityMeasures = {
  sessions: n,
  firstAudio: [],
  firstAnswerAudio: [],
  underruns: 0,
  completed: 0,
  failed: 0,
  timeouts: 0,
  errors: [],
  wallMs: 0,
};

async function session(index: number): Promise<void> {
  await new Promise((r) => setTimeout(r, index * stagger));
  const c = await RealtimeTestClient.connect(url!);
  try {
    c.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 48 } });
    const updated = await c.waitFor('session.updated');
    const rate =
      (updated.session as { audio: { output: { format: { rate?: number } } } }).audio.output.format.rate ??
      24000;
    for (let t = 0; t < turns; t++) {
      const clip = clips[(index * turns + t) % clips.length]!;
      const k = c.of('response.done').length + 1;
      await c.streamWav(clip.path, 1600);
      let done;
      try {
        done = await c.waitFor('response.done', { n: k, timeoutMs: TURN_TIMEOUT_MS });
      } catch (err) {
        if (c.closed) throw err;
        m.timeouts++;
        return;
      }
      const response = done.response as { id: string; status: string };
      if (response.status !== 'completed') {
        m.failed++;
        continue;
      }
      m.completed++;
      const stopped = c.of('input_audio_buffer.speech_stopped').at(-1)!;
      const lastWord = c.sentAt(stopped.audio_end_ms as number);
      const mine = c.events.filter((e) => e.response_id === response.id);
      const audio = mine.find((e) => e.type === 'response.output_audio.delta');
      const answer = mine.find((e) => e.type === 'response.output_audio_transcript.delta');
      if (audio) m.firstAudio.push(audio.at - lastWord);
      if (answer) m.firstAnswerAudio.push(answer.at - lastWord);
      m.underruns += cadence(c.events, response.id, rate).underruns;
    }
    for (const e of c.of('error')) m.errors.push(String((e.error as { code?: string }).code));
  } finally {
    await c.close();
  }
}

const started = performance.now();
const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => session(i)));
for (const r of results)
  if (r.status === 'rejected') m.errors.push(((r.reason as Error).message ?? String(r.reason)).slice(0, 200));
m.wallMs = performance.now() - started;
process.send!(m);
process.disconnect();
