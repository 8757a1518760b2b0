/**
 * Turn latency benchmark (not a test): the server with real engines, a WebSocket client streaming
 * the French commands of ../shared/testaudio at real-time pace. Per turn: turn end (speech_stopped)
 * → first audio byte (the filler) and → first answer audio byte, on the server's clock (x_timings)
 * and as the client receives them; then barge-ins: the speech start of an interrupting utterance →
 * the last audio byte of the interrupted answer. `npm run bench:turns [-- TURNS BARGE_INS]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { buildServer } from '../src/server.js';
import { loadRuntime } from '../src/session/runtime.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { frenchCommands } from '../src/testing/testaudio.js';
import { fmt, machineLine, percentile } from './lib.js';

const [turns = 12, bargeIns = 6] = process.argv.slice(2).map(Number);
const config = loadConfig();
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};
out(`# bench:turns ${new Date().toISOString()}`);
out(await machineLine(`llm ${config.llm.engine}, stt ${config.stt.threads || 'auto'}`));
const runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
out(
  `engines: ${[runtime.engines.stt, runtime.engines.llm, ...runtime.engines.voices.values()].map((e) => `${e.info.engine} ${e.info.model}`).join(', ')}`,
);
const app = buildServer({ config, logger: silentLogger, realtime: () => runtime });
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/realtime`;
const clips = frenchCommands();

type Done = { response: { id: string; status: string; x_timings: { marks: Record<string, number> } } };
const summary = (name: string, values: number[]) =>
  `| ${name} | ${values.length} | ${fmt(percentile(values, 50))} ms | ${fmt(percentile(values, 95))} ms | ${fmt(Math.max(...values))} ms |`;

/** Short answers keep the benchmark about latency, not about listening to the whole answer. */
async function session(): Promise<RealtimeTestClient> {
  const client = await RealtimeTestClient.connect(url);
  client.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 48 } });
  await client.waitFor('session.updated');
  return client;
}

const server = { filler: [] as number[], answer: [] as number[], stt: [] as number[], token: [] as number[] };
const client = { filler: [] as number[], answer: [] as number[] };
let c = await session();
for (let i = 0; i < turns; i++) {
  const clip = clips[i % clips.length]!;
  const n = c.of('response.done').length + 1;
  await c.streamWav(clip.path, 800);
  const done = (await c.waitFor('response.done', { n, timeoutMs: 120_000 })) as unknown as Done;
  const stopped = c.of('input_audio_buffer.speech_stopped').at(-1)!.at;
  const mine = c.events.filter((e) => e.response_id === done.response.id);
  const firstAudio = mine.find((e) => e.type === 'response.output_audio.delta');
  const firstAnswer = mine.find((e) => e.type === 'response.output_audio_transcript.delta');
  const m = done.response.x_timings.marks;
  if (m.first_audio_sent !== undefined) server.filler.push(m.first_audio_sent);
  if (m.first_answer_audio_sent !== undefined) server.answer.push(m.first_answer_audio_sent);
  if (m.stt_done !== undefined) server.stt.push(m.stt_done);
  if (m.first_llm_token !== undefined) server.token.push(m.first_llm_token);
  if (firstAudio) client.filler.push(firstAudio.at - stopped);
  if (firstAnswer) client.answer.push(firstAnswer.at - stopped);
  console.error(`turn ${i + 1}/${turns} ${clip.file}: ${done.response.status} ${JSON.stringify(m)}`);
}

const reactions: number[] = [];
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
    console.error(`barge-in ${i + 1}: the answer ended before the interruption (${done.response.status})`);
    continue;
  }
  const lastAudio = c.events
    .filter((e) => e.type === 'response.output_audio.delta' && e.response_id === answering.response_id)
    .at(-1)!;
  reactions.push(lastAudio.at - c.sentAt(started.audio_start_ms as number));
  console.error(`barge-in ${i + 1}/${bargeIns}: ${fmt(reactions.at(-1)!)} ms`);
  await c.close();
  c = await session();
}
await c.close();

out('');
out('| measure | turns | p50 | p95 | max |');
out('|---|---|---|---|---|');
out(summary('turn end → first audio sent (server; filler)', server.filler));
out(summary('turn end → first answer audio sent (server)', server.answer));
out(summary('turn end → STT done (server)', server.stt));
out(summary('turn end → first LLM token (server)', server.token));
out(summary('speech_stopped received → first audio delta received (client)', client.filler));
out(summary('speech_stopped received → first answer transcript received (client)', client.answer));
out(summary('barge-in: speech start sent → last audio delta received', reactions));
out('');
out(
  '(turn end = the server VAD ending the turn, `realtime.vad.minSilenceMs` after the speech; a barge-in is detected once `vad.minSpeechMs` of speech is heard.)',
);
await app.close();
await runtime.close();
mkdirSync('bench/reports', { recursive: true });
writeFileSync('bench/reports/turns.md', `${lines.join('\n')}\n`);
process.exit(0);
