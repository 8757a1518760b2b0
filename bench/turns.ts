/**
 * Turn benchmark (not a test): the server with real engines in this process, a WebSocket client in
 * another (bench/turns-client.ts) streaming real French speech of ../shared/testaudio at real-time
 * pace. Per turn, on the client's clock from the user's last word: → turn committed, →
 * transcript, → first audio (the filler), → first answer audio; the server's stage marks; the
 * share of mid-sentence pauses (bench/data/pauses.tsv) held as one turn; barge-ins: the speech
 * onset of an interrupting utterance → the last audio byte of the interrupted answer.
 * `npm run bench:turns [-- TURNS BARGE_INS PAUSES]`.
 *
 * `npm run bench:turns -- --fallback [TURNS]`: the same clips through the fallback relay
 * (fallback.realtime, policy `always`) and straight to the server it relays to, one after the
 * other: what the fallback path adds. Without a configured key, the upstream is a second instance
 * of this service on the same engines (the relay's own cost); with `VOICE_FALLBACK_REALTIME_URL`
 * and a key, it is that server (OpenAI: the network and its model too).
 *
 * `npm run bench:turns -- --rag [TURNS]`: the same clips without, then with a knowledge base on
 * their topic (bench/data/maison.md), partial transcripts on in both: whether the passages were
 * found before the turn ended, and what retrieval costs the first answer audio.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_CHUNKING } from '../src/rag/chunker.js';
import { parseDocument } from '../src/rag/formats.js';
import { SqliteKnowledgeBase } from '../src/rag/sqlite-kb.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime } from '../src/runtime/runtime.js';
import type { TurnMeasures } from './turns-client.js';
import { corpusWer } from '../src/testing/wer.js';
import { fmt, machineLine, percentile, runClient } from './lib.js';
import { listenOnLoopback } from '../src/testing/listen.js';

const args = process.argv.slice(2);
const fallbackMode = args[0] === '--fallback';
const ragMode = args[0] === '--rag';
const [turns = '12', bargeIns = '6', pauses = '15'] =
  fallbackMode || ragMode ? [args[1] ?? '12', '0', '0'] : args;
// The knowledge base is prefetched from partial transcripts: both runs have them, at 300 ms.
const config = loadConfig(ragMode ? { overrides: { turns: { partialIntervalMs: 300 } } } : {});
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
const { app, base } = await listenOnLoopback(config, runtime);
const url = `${base.replace('http', 'ws')}/v1/realtime`;

/** The client half in its own process, on `target`. */
function measure(target: string): Promise<TurnMeasures> {
  return runClient(new URL('./turns-client.ts', import.meta.url), [target, turns, bargeIns, pauses]);
}

if (fallbackMode) await compareFallback();
if (ragMode) await compareRag();
const m = await measure(url);

const row = (name: string, values: number[]) =>
  values.length === 0
    ? `| ${name} | 0 | – | – | – |`
    : `| ${name} | ${values.length} | ${fmt(percentile(values, 50))} ms | ${fmt(percentile(values, 95))} ms | ${fmt(Math.max(...values))} ms |`;
const mark = (name: string) => m.marks.flatMap((marks) => (marks[name] === undefined ? [] : [marks[name]]));
out('');
out('| measure | n | p50 | p95 | max |');
out('|---|---|---|---|---|');
out(row('last word → turn committed, client', m.lastWordTo.committed));
out(row('last word → transcript, client', m.lastWordTo.transcript));
out(row('last word → first audio (filler), client', m.lastWordTo.firstAudio));
out(row('last word → first answer audio, client', m.lastWordTo.firstAnswerAudio));
out(row('turn committed → first audio (filler), client', m.commitToFirstAudio));
out(row('speech start → first partial transcript (> 2 s), client', m.firstPartial));
out(row('turn committed → STT done, server', mark('stt_done')));
out(row('turn committed → first LLM token, server', mark('first_llm_token')));
out(row('turn committed → first answer audio sent, server', mark('first_answer_audio_sent')));
out(row('barge-in: speech onset sent → last audio delta received, client', m.reactions));
out(row('barge-in: speech onset sent → x_speech_onset received (client pauses), client', m.onsetReactions));
out('');
const { wer, edits, words } = corpusWer(m.transcripts);
out(
  `Partial transcripts (turns.partialIntervalMs ${config.turns.partialIntervalMs}): ${m.partialBeforeStop}/${m.longUtterances} utterances longer than 2 s had stable words before the user stopped. Final transcripts (what the deltas add up to): WER ${(wer * 100).toFixed(1)} % (${edits}/${words} words) over ${m.transcripts.length} turns.`,
);
out('');
const held = m.pauses.filter((p) => p.held).length;
out(
  `Mid-sentence pauses (bench/data/pauses.tsv, 0.7–1.0 s spliced at unfinished points): ${held}/${m.pauses.length} held as one turn (${m.pauses.length ? Math.round((held / m.pauses.length) * 100) : 0} %).`,
);
out('');
out('| before the pause | pause | turns | transcripts |');
out('|---|---|---|---|');
for (const p of m.pauses)
  out(
    `| ${p.before} | ${p.pauseMs} ms | ${p.held ? 1 : p.transcripts.length} | ${p.transcripts.map((t) => t.replace(/\|/g, '/')).join(' / ')} |`,
  );
out('');
out(
  `Turn detection: ${m.turnDetection} (turns.pauseMs ${config.turns.pauseMs}, eagerness ${config.turns.eagerness}, speculative ${config.turns.speculative}; server_vad silence ${config.vad.minSilenceMs} ms). Last word = the VAD's speech end (audio_end_ms of speech_stopped) as the client sent it. A barge-in is detected once ${config.vad.minSpeechMs} ms (\`vad.minSpeechMs\`) of speech is heard; ${m.missedBargeIns} barge-in(s) found the answer already over.`,
);
await app.close();
await runtime.close();
mkdirSync(new URL('reports', import.meta.url), { recursive: true });
writeFileSync(new URL('reports/turns.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);

/** `--fallback`: the same clips straight to the upstream, then through the relay; the report, then exit. */
/**
 * The same turns without and with a knowledge base on their topic (bench/data/maison.md, home
 * automation, in the embedded SQLite index): when the search ended against the end of the turn
 * (negative: prefetched while the user spoke), and what it costs the first answer audio.
 */
async function compareRag(): Promise<never> {
  const serverMark = (name: string) => (x: TurnMeasures) =>
    x.marks.flatMap((k) => (k[name] === undefined ? [] : [k[name]]));
  const kb = new SqliteKnowledgeBase(':memory:');
  await kb.add([
    await parseDocument(readFileSync(new URL('data/maison.md', import.meta.url)), 'maison.md', {
      maxBytes: 1 << 20,
      chunking: { ...DEFAULT_CHUNKING, targetWords: 60, maxWords: 100, overlapWords: 0 },
    }),
  ]);
  const withKb = await listenOnLoopback(config, runtime, kb);
  out(
    `turns.partialIntervalMs ${config.turns.partialIntervalMs}; rag.budgetMs ${config.rag.budgetMs}; knowledge base: bench/data/maison.md, ${kb.chunkCount} passages`,
  );
  const without = await measure(url);
  const withRag = await measure(`${withKb.base.replace('http', 'ws')}/v1/realtime`);
  const p50 = (values: number[]) => (values.length ? percentile(values, 50) : NaN);
  const p95 = (values: number[]) => (values.length ? percentile(values, 95) : NaN);
  out('');
  out('| measure (client clock) | without RAG: n, p50 / p95 | with RAG: n, p50 / p95 |');
  out('|---|---|---|');
  for (const [name, of] of [
    ['last word → turn committed', (x: TurnMeasures) => x.lastWordTo.committed],
    ['last word → first answer audio', (x: TurnMeasures) => x.lastWordTo.firstAnswerAudio],
    ['turn committed → transcript (server)', serverMark('stt_done')],
    ['turn committed → first LLM token (server)', serverMark('first_llm_token')],
    ['turn committed → first sentence (server)', serverMark('first_sentence')],
  ] as const)
    out(
      `| ${name} | ${of(without).length}, ${fmt(p50(of(without)))} / ${fmt(p95(of(without)))} ms | ${of(withRag).length}, ${fmt(p50(of(withRag)))} / ${fmt(p95(of(withRag)))} ms |`,
    );
  const doneAt = withRag.marks.flatMap((k) => (k.rag_done === undefined ? [] : [k.rag_done]));
  const dropped = withRag.marks.filter((k) => k.rag_dropped !== undefined).length;
  out('');
  out(
    `With RAG: ${doneAt.filter((t) => t < 0).length} of ${withRag.marks.length} answers had their passages before the turn ended (rag_done < 0; p50 ${fmt(p50(doneAt))} ms from the end of the turn), ${dropped} dropped.`,
  );
  await withKb.app.close();
  await kb.close();
  await app.close();
  await runtime.close();
  mkdirSync(new URL('reports', import.meta.url), { recursive: true });
  writeFileSync(new URL('reports/turns-rag.md', import.meta.url), `${lines.join('\n')}\n`);
  process.exit(0);
}

async function compareFallback(): Promise<never> {
  const own = config.fallback.realtime.apiKey === '';
  const upstream = own ? url : config.fallback.realtime.url;
  const relayConfig = loadConfig({
    overrides: {
      fallback: { realtime: { policy: ['always'], ...(own ? { url, apiKey: 'bench-no-auth' } : {}) } },
    },
  });
  const relay = await listenOnLoopback(relayConfig, runtime);
  const relayUrl = `${relay.base.replace('http', 'ws')}/v1/realtime`;
  out(
    `fallback upstream: ${own ? 'a second instance of this service on the same engines (loopback, no TLS)' : new URL(upstream).host}`,
  );
  const direct = own ? await measure(upstream) : undefined;
  const relayed = await measure(relayUrl);
  const p50 = (values: number[]) => (values.length ? percentile(values, 50) : NaN);
  const rows: [string, (x: TurnMeasures) => number[]][] = [
    ['last word → turn committed', (x) => x.lastWordTo.committed],
    ['last word → transcript', (x) => x.lastWordTo.transcript],
    ['last word → first audio (filler)', (x) => x.lastWordTo.firstAudio],
    ['last word → first answer audio', (x) => x.lastWordTo.firstAnswerAudio],
  ];
  out('');
  out('| measure (client clock, p50) | n | straight to the upstream | through the fallback relay | added |');
  out('|---|---|---|---|---|');
  for (const [name, of] of rows) {
    const a = direct ? p50(of(direct)) : NaN;
    const b = p50(of(relayed));
    out(
      `| ${name} | ${of(relayed).length} | ${direct ? `${fmt(a)} ms` : '–'} | ${fmt(b)} ms | ${direct ? `${fmt(b - a)} ms` : '–'} |`,
    );
  }
  out('');
  await relay.app.close();
  await app.close();
  await runtime.close();
  mkdirSync(new URL('reports', import.meta.url), { recursive: true });
  writeFileSync(new URL('reports/turns-fallback.md', import.meta.url), `${lines.join('\n')}\n`);
  process.exit(0);
}
