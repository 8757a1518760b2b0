/**
 * The client half of `bench:turns`, in its own process so that its clock and its socket reads are
 * not held up by the server's work: streams the French commands at real-time pace, then barge-ins,
 * and sends the measures back to the parent. Usage (by bench/turns.ts): URL TURNS BARGE_INS.
 */
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { frenchCommands } from '../src/testing/testaudio.js';

export interface TurnMeasures {
  /** x_timings marks of each completed turn, ms after the turn ended, on the server's clock. */
  marks: Record<string, number>[];
  /** speech_stopped received → first audio delta received, per turn. */
  clientFiller: number[];
  /** speech_stopped received → first answer transcript delta received (its audio goes with it). */
  clientAnswer: number[];
  /** Speech onset sent → last audio delta of the interrupted answer received, per barge-in. */
  reactions: number[];
  /** Barge-ins that found the answer already over, so nothing was interrupted. */
  missedBargeIns: number;
}

type Done = { response: { id: string; status: string; x_timings: { marks: Record<string, number> } } };
const [url, turnsArg = '12', bargeInsArg = '6'] = process.argv.slice(2);
const turns = Number(turnsArg);
const bargeIns = Number(bargeInsArg);
const clips = frenchCommands();
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Short answers keep the benchmark about latency, not about listening to whole answers. */
async function session(): Promise<{ client: RealtimeTestClient; prefixPaddingMs: number }> {
  const client = await RealtimeTestClient.connect(url!);
  client.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 48 } });
  const updated = await client.waitFor('session.updated');
  const session = updated.session as { audio: { input: { turn_detection: { prefix_padding_ms: number } } } };
  return { client, prefixPaddingMs: session.audio.input.turn_detection.prefix_padding_ms };
}

const m: TurnMeasures = { marks: [], clientFiller: [], clientAnswer: [], reactions: [], missedBargeIns: 0 };
let { client: c, prefixPaddingMs } = await session();
for (let i = 0; i < turns; i++) {
  const clip = clips[i % clips.length]!;
  const n = c.of('response.done').length + 1;
  await c.streamWav(clip.path, 800);
  const done = (await c.waitFor('response.done', { n, timeoutMs: 120_000 })) as unknown as Done;
  const stopped = c.of('input_audio_buffer.speech_stopped').at(-1)!.at;
  const mine = c.events.filter((e) => e.response_id === done.response.id);
  const firstAudio = mine.find((e) => e.type === 'response.output_audio.delta');
  const firstAnswer = mine.find((e) => e.type === 'response.output_audio_transcript.delta');
  if (done.response.status === 'completed') m.marks.push(done.response.x_timings.marks);
  if (firstAudio) m.clientFiller.push(firstAudio.at - stopped);
  if (firstAnswer) m.clientAnswer.push(firstAnswer.at - stopped);
  log(
    `turn ${i + 1}/${turns} ${clip.file}: ${done.response.status} ${JSON.stringify(done.response.x_timings.marks)}`,
  );
}

for (let i = 0; i < bargeIns; i++) {
  const n = c.of('response.done').length + 1;
  await c.streamWav(clips[i % clips.length]!.path, 800);
  const answering = await c.waitFor('response.output_audio_transcript.delta', {
    n: c.of('response.output_audio_transcript.delta').length + 1,
    timeoutMs: 120_000,
  });
  const starts = c.of('input_audio_buffer.speech_started').length;
  await c.streamWav(clips[(i + 7) % clips.length]!.path, 800);
  const done = (await c.waitFor('response.done', { n, timeoutMs: 120_000 })) as unknown as Done;
  const started = c.of('input_audio_buffer.speech_started')[starts];
  await c.waitFor('response.done', { n: n + 1, timeoutMs: 120_000 });
  if (done.response.status !== 'cancelled' || !started) {
    m.missedBargeIns++;
    log(`barge-in ${i + 1}/${bargeIns}: the answer ended before the interruption (${done.response.status})`);
  } else {
    const lastAudio = c.events
      .filter((e) => e.type === 'response.output_audio.delta' && e.response_id === answering.response_id)
      .at(-1)!;
    // audio_start_ms includes the prefix padding; the speech itself began that much later.
    const onset = (started.audio_start_ms as number) + prefixPaddingMs;
    m.reactions.push(lastAudio.at - c.sentAt(onset));
    log(`barge-in ${i + 1}/${bargeIns}: ${m.reactions.at(-1)!.toFixed(0)} ms`);
  }
  await c.close();
  ({ client: c, prefixPaddingMs } = await session());
}
await c.close();
process.send!(m);
process.disconnect();
