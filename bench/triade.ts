/**
 * TRIADE (not a test): the whole service measured the way its operators check each sprint, five
 * aspects out of 10 (docs/triade.md), plus capacity. Starts `voice serve` from compiled JavaScript
 * (or measures `--url`), then: Latence (/chat, /tts, cold start), Streaming (voice turns of real
 * French speech at real-time pace over /v1/realtime and /ws/chat, /her/chat, output cadence),
 * Connectivité (WebSocket connect, pings, audio chunks each way, timeouts, /health, /ready),
 * Humanité (fillers, barge-in, TTS → STT round trip, mid-sentence pauses), Qualité (STT WER, the
 * tests with `--with-tests`), Capacité (1–16 voice sessions at once, /her/chat at once) and the GPU.
 *
 * `npm run bench:triade [-- --quick] [--out DIR] [--url http://HOST:PORT] [--with-tests]
 * [--sessions 1,2,4,8,16]`. Writes DIR/<timestamp>.json, .md and .svg (DIR: bench/results) and
 * prints the table with the delta against the newest earlier run in DIR.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { frenchCommands } from '../src/testing/testaudio.js';
import { corpusWer } from '../src/testing/wer.js';
import { PROMPTS, TEXTS } from './data/prompts.js';
import { machineLine, percentile, runClient } from './lib.js';
import { startServerProcess, waitReady, type ServerProcess } from './server-process.js';
import { herChatKnee, herChatSteps, KNEE_MS, sessionKnee, sessionSteps } from './triade/capacity.js';
import { chat, connectivity, herChat, probe, transcribe, tts } from './triade/probes.js';
import { markdown, svg, triadeTable } from './triade/report.js';
import { toSeries, type TriadeResult } from './triade/result.js';
import { score, type Profile } from './triade/score.js';
import { readMetrics, sum } from './triade/server-metrics.js';
import type { TurnMeasures } from './turns-client.js';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    url: { type: 'string' },
    'with-tests': { type: 'boolean', default: false },
    sessions: { type: 'string' },
  },
});
const quick = opts.quick;
const outDir = resolve(opts.out);
const n = quick ? 1 : 10;
const sessionCounts = (opts.sessions ?? (quick ? '1,2' : '1,2,4,8,16')).split(',').map(Number);
const log = (s: string) => process.stderr.write(`triade: ${s}\n`);
const command = `npm run bench:triade --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`;

const machine = await machineLine('llm auto, stt auto');
let server: ServerProcess | undefined;
let base = opts.url?.replace(/\/$/, '');
let coldStartMs: number | undefined;
let listeningMs: number | undefined;
if (!base) {
  log('starting voice serve (bin/voice.js)…');
  // Every capacity session comes from this one address: the per-client limit must let them in.
  const most = Math.max(...sessionCounts);
  server = await startServerProcess(
    {
      VOICE_AUTH_MAX_SESSIONS_PER_TOKEN:
        process.env.VOICE_AUTH_MAX_SESSIONS_PER_TOKEN ?? String(Math.max(4, most)),
      VOICE_REALTIME_MAX_SESSIONS: process.env.VOICE_REALTIME_MAX_SESSIONS ?? String(Math.max(16, most)),
    },
    { compiled: true },
  );
  base = server.base;
  listeningMs = server.listeningAt - server.startedAt;
  await waitReady(base, 10);
  coldStartMs = performance.now() - server.startedAt;
  log(`ready ${coldStartMs.toFixed(0)} ms after the process started`);
} else {
  await waitReady(base);
}
const wsBase = base.replace(/^http/, 'ws');
const ready = (await (await fetch(`${base}/ready`)).json()) as {
  engines: Record<string, { engine: string; model: string; device: string }>;
  gpu: { name: string; index: number }[] | null;
};
const engines = Object.fromEntries(
  Object.entries(ready.engines).map(([k, e]) => [k, `${e.engine} ${e.model} (${e.device})`]),
);
const profile: Profile = Object.values(ready.engines).some((e) => e.device === 'cuda') ? 'gpu' : 'cpu';

try {
  // Latence, and the answers for the round trip.
  log(`latence: /chat and /tts × ${n}`);
  const chats = [];
  const speech = [];
  for (let i = 0; i < n; i++) {
    chats.push(await chat(base, PROMPTS[i % PROMPTS.length]!));
    speech.push(await tts(base, TEXTS[i % TEXTS.length]!));
  }

  // Streaming and Humanité: real speech over /v1/realtime, then /ws/chat.
  const turns = quick ? 1 : 12;
  log(`streaming: ${turns} voice turn(s), barge-ins and pauses over /v1/realtime`);
  const before = await readMetrics(base);
  const rt = await turnsClient(`${wsBase}/v1/realtime`, turns, quick ? 1 : 6, quick ? 1 : 15);
  const after = await readMetrics(base);
  const delta = (name: string, labels: Record<string, string> = {}) =>
    sum(after, name, labels) - sum(before, name, labels);
  const responses = delta('voice_turns_total', { transport: 'realtime' });
  const wsChat = await turnsClient(`${wsBase}/ws/chat`, quick ? 1 : 3, 0, 0);
  log(`streaming: /her/chat × ${n}`);
  const her = [];
  for (let i = 0; i < n; i++) her.push(await herChat(base, PROMPTS[(i + 5) % PROMPTS.length]!));

  log('humanité: answers through /tts then /v1/audio/transcriptions');
  const roundTrip = [];
  for (const c of chats.filter((c) => c.text.trim() !== '')) {
    const heard = await transcribe(base, (await tts(base, c.text)).wav);
    roundTrip.push({ reference: c.text, hypothesis: heard });
  }
  // The well-formed sentences of /tts too: the voice's intelligibility without the LLM's wording.
  const voiceTrip = [];
  for (let i = 0; i < speech.length; i++)
    voiceTrip.push({
      reference: TEXTS[i % TEXTS.length]!,
      hypothesis: await transcribe(base, speech[i]!.wav),
    });

  const clips = frenchCommands().slice(0, quick ? 3 : undefined);
  log(`qualité: ${clips.length} French commands through /v1/audio/transcriptions`);
  const heard = [];
  for (const clip of clips)
    heard.push({ reference: clip.transcript, hypothesis: await transcribe(base, readFileSync(clip.path)) });

  log('connectivité: connects, 30 pings, a command in and its answer out in audio chunks');
  const conn = await connectivity(`${wsBase}/v1/realtime`, 30, clips[0]!.path, quick ? 2 : 5);
  const health = await probe(base, '/health');
  const readyProbe = await probe(base, '/ready');

  log(`capacité: ${sessionCounts.join(', ')} voice sessions at once`);
  const steps = await sessionSteps(base, `${wsBase}/v1/realtime`, sessionCounts, quick ? 1 : 2, log);
  const herSteps = await herChatSteps(base, quick ? [1, 2] : [1, 2, 4, 8], quick ? 1 : 2, log);
  const gpuSamples = steps.filter((s) => s.gpuUtilization !== undefined);

  await server?.stop();
  server = undefined;
  const tests = opts['with-tests'] ? runTests() : undefined;

  const rtWer = corpusWer(rt.transcripts).wer;
  const sttWer = corpusWer(heard);
  const rtWerValue = corpusWer(roundTrip).wer;
  const timeoutsAll = conn.timeouts + steps.reduce((a, s) => a + s.timeouts, 0);
  const answered = rt.underruns.length + wsChat.underruns.length;
  const underrunsPerTurn = answered
    ? [...rt.underruns, ...wsChat.underruns].reduce((a, b) => a + b, 0) / answered
    : NaN;
  const pausesHeld = rt.pauses.filter((x) => x.held).length;
  const values: Record<string, number | undefined> = {
    stt_wer: sttWer.wer * 100,
    tests_failed: tests?.failed,
    chat_first_token_p50: percentile(
      chats.map((c) => c.first),
      50,
    ),
    chat_total_p50: percentile(
      chats.map((c) => c.total),
      50,
    ),
    tts_first_byte_p50: percentile(
      speech.map((s) => s.first),
      50,
    ),
    cold_start: coldStartMs,
    ttfa_p95: percentile(rt.commitToFirstAudio, 95),
    e2e_p50: percentile(rt.lastWordTo.firstAnswerAudio, 50),
    her_chat_first_audio_p50: percentile(
      her.map((h) => h.first),
      50,
    ),
    underruns_per_turn: underrunsPerTurn,
    fillers_per_turn: responses > 0 ? delta('voice_fillers_played_total') / responses : NaN,
    barge_in_p50: percentile(rt.reactions, 50),
    round_trip_wer: roundTrip.length ? rtWerValue * 100 : NaN,
    pauses_held: rt.pauses.length ? (pausesHeld / rt.pauses.length) * 100 : NaN,
    ws_timeouts: timeoutsAll,
    chunks_taken:
      (Math.min(conn.chunksAcked, conn.chunksSent) / conn.chunksSent) *
      100 *
      (conn.chunksReceived > 0 ? 1 : 0),
    ping_p95: percentile(conn.pingMs, 95),
    connect_p50: percentile(conn.connectMs, 50),
    health_ok: health.status === 200 && readyProbe.status === 200 ? 1 : 0,
  };
  const scores = score(values, profile);
  const result: TriadeResult = {
    version: 1,
    at: new Date().toISOString(),
    command,
    // What the run changed from the defaults (never a key or a secret).
    environment: Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => k.startsWith('VOICE_') && !/KEY|SECRET|TOKEN|PASSWORD/.test(k),
      ) as [string, string][],
    ),
    machine,
    profile,
    quick,
    target: opts.url ? opts.url : 'started by the bench: node bin/voice.js serve (compiled), default config',
    engines,
    gpu: ready.gpu?.length
      ? {
          devices: ready.gpu.map((g) => `${g.index}: ${g.name}`).join(', '),
          utilizationMax: Math.max(...gpuSamples.map((s) => s.gpuUtilization!)),
          memoryMaxMiB: Math.max(...gpuSamples.map((s) => s.gpuMemoryMiB!)),
        }
      : null,
    latence: {
      ...(coldStartMs !== undefined ? { coldStartMs, listeningMs } : {}),
      chatFirstToken: toSeries(chats.map((c) => c.first)),
      chatTotal: toSeries(chats.map((c) => c.total)),
      ttsFirstByte: toSeries(speech.map((s) => s.first)),
      ttsTotal: toSeries(speech.map((s) => s.total)),
    },
    streaming: {
      turns: rt.transcripts.length,
      lastWordToCommitted: toSeries(rt.lastWordTo.committed),
      lastWordToTranscript: toSeries(rt.lastWordTo.transcript),
      lastWordToFirstAudio: toSeries(rt.lastWordTo.firstAudio),
      lastWordToFirstAnswerAudio: toSeries(rt.lastWordTo.firstAnswerAudio),
      committedToFirstAudio: toSeries(rt.commitToFirstAudio),
      wsChatTurns: wsChat.transcripts.length,
      wsChatFirstAnswerAudio: toSeries(wsChat.lastWordTo.firstAnswerAudio),
      herChatFirstAudio: toSeries(her.map((h) => h.first)),
      herChatTotal: toSeries(her.map((h) => h.total)),
      underrunsPerTurn,
      fillerGap: toSeries([...rt.fillerGaps, ...wsChat.fillerGaps]),
      transcriptWer: rtWer,
    },
    connectivite: {
      ...conn,
      timeoutsAll,
      healthStatus: health.status,
      readyStatus: readyProbe.status,
      healthMs: health.ms,
    },
    humanite: {
      fillersPerTurn: values.fillers_per_turn!,
      bargeIn: toSeries(rt.reactions),
      missedBargeIns: rt.missedBargeIns,
      roundTripWer: roundTrip.length ? rtWerValue : NaN,
      roundTrip: roundTrip.map((r) => ({ said: r.reference, heard: r.hypothesis })),
      voiceWer: corpusWer(voiceTrip).wer,
      pausesHeld,
      pauses: rt.pauses.length,
    },
    qualite: {
      sttWer: sttWer.wer,
      sttWords: sttWer.words,
      clips: clips.length,
      ...(tests ? { tests } : {}),
    },
    capacite: {
      sessions: steps,
      knee: sessionKnee(steps),
      kneeMs: KNEE_MS,
      herChat: herSteps,
      herChatKnee: herChatKnee(herSteps),
    },
    scores,
    total: scores.reduce((a, s) => a + s.score, 0),
  };

  mkdirSync(outDir, { recursive: true });
  const previous = newestResult(outDir);
  const stamp = result.at.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, `${stamp}.svg`), svg(result));
  writeFileSync(join(outDir, `${stamp}.md`), markdown(result, previous, `${stamp}.svg`));
  console.log(`# TRIADE ${result.at}${quick ? ' (quick)' : ''}`);
  console.log(machine);
  console.log('');
  console.log(triadeTable(result, previous));
  console.log('');
  console.log(
    `First audio (filler) p50 ${fmtMs(result.streaming.lastWordToFirstAudio.p50)}, first answer audio p50 ${fmtMs(result.streaming.lastWordToFirstAnswerAudio.p50)} after the last word; capacity knee: ${result.capacite.knee} voice session(s) at p95 first answer audio ≤ ${KNEE_MS} ms.`,
  );
  console.log(`report: ${join(outDir, `${stamp}.md`)}`);
} finally {
  await server?.stop();
}
process.exit(0);

function fmtMs(v: number): string {
  return Number.isNaN(v) ? '–' : `${v.toFixed(0)} ms`;
}

/** bench/turns-client.ts in its own process on `url`. */
function turnsClient(url: string, turns: number, bargeIns: number, pauses: number): Promise<TurnMeasures> {
  return runClient(new URL('./turns-client.ts', import.meta.url), [
    url,
    String(turns),
    String(bargeIns),
    String(pauses),
  ]);
}

/** The newest earlier result in `dir`, for the delta. */
function newestResult(dir: string): TriadeResult | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const f of files.reverse()) {
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as TriadeResult;
      if (r.version === 1) return r;
    } catch {
      // not a TRIADE result
    }
  }
  return undefined;
}

/** `npm test` (lint, types, every test) with vitest's JSON report: passed and failed tests. */
function runTests(): { passed: number; failed: number } {
  log('qualité: running the test suite (npm test)…');
  const dir = mkdtempSync(join(tmpdir(), 'triade-tests-'));
  const report = join(dir, 'vitest.json');
  const r = spawnSync(
    'npm',
    ['test', '--', '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
    };
    // A run whose tests passed but that exited non-zero (an unhandled error) did not pass either.
    const extra = r.status !== 0 && json.numFailedTests === 0 ? 1 : 0;
    return { passed: json.numPassedTests, failed: json.numFailedTests + extra };
  } catch {
    // Lint or type-check failed before vitest ran: the suite did not pass.
    return { passed: 0, failed: Math.max(1, r.status ?? 1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
