/**
 * Turn latency benchmark (not a test): the server with real engines in this process, a WebSocket
 * client in another (bench/turns-client.ts) streaming the French commands of ../shared/testaudio
 * at real-time pace. Per turn: turn end (speech_stopped) → first audio byte (the filler) and →
 * first answer audio byte, on the server's clock (x_timings) and as the client receives them; then
 * barge-ins: the speech onset of an interrupting utterance → the last audio byte of the
 * interrupted answer. `npm run bench:turns [-- TURNS BARGE_INS]`.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { buildServer } from '../src/server.js';
import { loadRuntime } from '../src/runtime/runtime.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { TurnMeasures } from './turns-client.js';
import { fmt, machineLine, percentile } from './lib.js';

const [turns = '12', bargeIns = '6'] = process.argv.slice(2);
const config = loadConfig();
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};
out(`# bench:turns ${new Date().toISOString()}`);
out(await machineLine(`llm ${config.llm.threads || 'auto'}, stt ${config.stt.threads || 'auto'}`));
const runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
out(
  `engines: ${[runtime.engines.stt, runtime.engines.llm, ...runtime.engines.voices.values()].map((e) => `${e.info.engine} ${e.info.model}`).join(', ')}; stt audioCtx ${config.stt.audioCtx}, beam ${config.stt.beamSize}`,
);
const app = await buildServer({
  config,
  logger: silentLogger,
  runtime: () => runtime,
  store: new SqliteStore(':memory:'),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/realtime`;

const child = fork(new URL('./turns-client.ts', import.meta.url), [url, turns, bargeIns]);
const m = await new Promise<TurnMeasures>((resolve, reject) => {
  let result: TurnMeasures | undefined;
  child.on('message', (message) => (result = message as TurnMeasures));
  child.on('error', reject);
  child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`client exited with ${code}`))));
});

const row = (name: string, values: number[]) =>
  values.length === 0
    ? `| ${name} | 0 | – | – | – |`
    : `| ${name} | ${values.length} | ${fmt(percentile(values, 50))} ms | ${fmt(percentile(values, 95))} ms | ${fmt(Math.max(...values))} ms |`;
const mark = (name: string) => m.marks.flatMap((marks) => (marks[name] === undefined ? [] : [marks[name]]));
out('');
out('| measure | n | p50 | p95 | max |');
out('|---|---|---|---|---|');
out(row('turn end → first audio sent (filler), server', mark('first_audio_sent')));
out(row('turn end → STT done, server', mark('stt_done')));
out(row('turn end → first LLM token, server', mark('first_llm_token')));
out(row('turn end → first sentence, server', mark('first_sentence')));
out(row('turn end → first answer audio sent, server', mark('first_answer_audio_sent')));
out(row('speech_stopped → first audio delta, client', m.clientFiller));
out(row('speech_stopped → first answer transcript delta, client', m.clientAnswer));
out(row('barge-in: speech onset sent → last audio delta received, client', m.reactions));
out('');
out(
  `Turn end = the server VAD ending the turn, ${config.vad.minSilenceMs} ms (\`vad.minSilenceMs\`) after the speech; a barge-in is detected once ${config.vad.minSpeechMs} ms (\`vad.minSpeechMs\`) of speech is heard. ${m.missedBargeIns} barge-in(s) found the answer already over.`,
);
await app.close();
await runtime.close();
mkdirSync(new URL('reports', import.meta.url), { recursive: true });
writeFileSync(new URL('reports/turns.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);
