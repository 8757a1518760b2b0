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
 *
 * `npm run bench:turns -- --transport twilio [TURNS]`: the phone path against 16 kHz. Whisper's
 * WER on every French command as a phone line carries it (8 kHz μ-law, decoded and resampled)
 * and at 16 kHz; then live turns over a Twilio call (bench/turns-phone-client.ts plays Twilio)
 * and over /v1/realtime in 16 kHz PCM16: last word → first answer audio (fillers off in both, so
 * the first audio is the answer's) and the WER of what the server transcribed.
 *
 * `npm run bench:turns -- --instances [COUNTS]`: capacity through HAProxy with one instance, then
 * two, sharing PostgreSQL and Redis (bench/turns-cluster.ts).
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
import type { PhoneTurnMeasures } from './turns-phone-client.js';
import { mulawDecode } from '../src/audio/g711.js';
import { int16ToFloat32 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { readWav } from '../src/audio/wav.js';
import { TESTAUDIO_DIR, frenchCommands } from '../src/testing/testaudio.js';
import { VadSegmenter } from '../src/engines/vad/segmenter.js';
import { EAGERNESS } from '../src/turns/semantic-vad.js';
import { join } from 'node:path';
import { phoneAudio } from '../src/testing/twilio-client.js';
import { corpusWer } from '../src/testing/wer.js';
import { fmt, machineLine, percentile, runClient } from './lib.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { MetaRecordingStore } from '../src/testing/meta-store.js';

const args = process.argv.slice(2);
if (args[0] === '--instances') {
  // Its instances are processes of their own: no engines are loaded here.
  const { compareInstances } = await import('./turns-cluster.js');
  await compareInstances(args[1]);
  process.exit(0);
}
const fallbackMode = args[0] === '--fallback';
const ragMode = args[0] === '--rag';
const twilioMode = args[0] === '--transport' && args[1] === 'twilio';
if (args[0] === '--transport' && !twilioMode) throw new Error('--transport takes twilio');
const [turns = '12', bargeIns = '6', pauses = '15'] =
  fallbackMode || ragMode ? [args[1] ?? '12', '0', '0'] : twilioMode ? [args[2] ?? '12', '0', '0'] : args;
// The knowledge base is prefetched from partial transcripts: both runs have them, at 300 ms.
// Phone turns are timed to the first audio: without fillers, that is the answer's; short answers
// (as bench/turns-client.ts asks for), since a Twilio client plays each one out before the next turn.
const config = loadConfig(
  ragMode
    ? { overrides: { turns: { partialIntervalMs: 300 } } }
    : twilioMode
      ? { overrides: { realtime: { fillers: false }, llm: { maxTokens: 48 } } }
      : {},
);
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
// Records which conversation each call's metadata went to: a Twilio call's transcripts are read from it.
const store = new MetaRecordingStore();
const { app, base } = await listenOnLoopback(config, runtime, undefined, { store });
const url = `${base.replace('http', 'ws')}/v1/realtime`;

/** The client half in its own process, on `target`. */
function measure(target: string): Promise<TurnMeasures> {
  return runClient(new URL('./turns-client.ts', import.meta.url), [target, turns, bargeIns, pauses]);
}

if (fallbackMode) await compareFallback();
if (ragMode) await compareRag();
if (twilioMode) await compareTwilio();
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

/** `--transport twilio`: Whisper on the phone path vs 16 kHz, then live turns both ways; the report, then exit. */
async function compareTwilio(): Promise<never> {
  const clips = frenchCommands();
  const stt = runtime.engines.stt;
  const live = { audioCtx: config.stt.liveAudioCtx, beamSize: config.stt.liveBeamSize, language: 'fr' };
  const wide: { reference: string; hypothesis: string }[] = [];
  const phone: { reference: string; hypothesis: string }[] = [];
  for (const clip of clips) {
    const wav = await readWav(clip.path);
    const at16 = resample(wav.samples, wav.sampleRate, 16000);
    const at8 = int16ToFloat32(mulawDecode(await phoneAudio(clip.path)));
    wide.push({
      reference: clip.transcript,
      hypothesis: (await stt.transcribe({ samples: at16, sampleRate: 16000 }, live)).text,
    });
    phone.push({
      reference: clip.transcript,
      hypothesis: (await stt.transcribe({ samples: at8, sampleRate: 8000 }, live)).text,
    });
  }
  const pct = (pairs: typeof wide) => {
    const { wer, edits, words } = corpusWer(pairs);
    return `${(wer * 100).toFixed(1)} % (${edits}/${words} words)`;
  };
  out('');
  out(
    `Whisper (${runtime.engines.stt.info.model}, live settings: audioCtx ${config.stt.liveAudioCtx}, beam ${config.stt.liveBeamSize}) on the ${clips.length} French commands: 16 kHz ${pct(wide)}; phone path (8 kHz μ-law, resampled to 16 kHz) ${pct(phone)}.`,
  );
  await hearingOnThePhone(clips);
  const client = new URL('./turns-phone-client.ts', import.meta.url);
  const pcm = await runClient<PhoneTurnMeasures>(client, ['pcm16', url, turns]);
  const call = await runClient<PhoneTurnMeasures>(client, [
    'twilio',
    `${base.replace('http', 'ws')}/v1/telephony/twilio`,
    turns,
  ]);
  const saved = store.metas.find((x) => x.meta.callSid === call.callSid);
  const items = saved ? await store.history(saved.owner, saved.sessionId) : [];
  const heard = (hypotheses: string[]) =>
    pct([
      {
        reference: clips
          .slice(0, Number(turns))
          .map((c) => c.transcript)
          .join(' '),
        hypothesis: hypotheses.join(' '),
      },
    ]);
  const row = (name: string, x: PhoneTurnMeasures, hypotheses: string[]) =>
    `| ${name} | ${x.firstAnswerAudio.length} (${x.unanswered} unanswered) | ${fmt(percentile(x.firstAnswerAudio, 50))} ms | ${fmt(percentile(x.firstAnswerAudio, 95))} ms | ${heard(hypotheses)} |`;
  out('');
  out(
    '| live turns (fillers off) | turns answered | last word → first answer audio p50 | p95 | WER of the turns |',
  );
  out('|---|---|---|---|---|');
  out(row('/v1/realtime, 16 kHz PCM16', pcm, pcm.transcripts));
  out(
    row(
      'Twilio Media Stream, 8 kHz μ-law',
      call,
      items.filter((i) => i.role === 'user').map((i) => i.text),
    ),
  );
  out('');
  out(
    `Last word = the end of Silero's last speech frame on the original recording, as the client sent it; first answer audio = the first audio message received (a Twilio \`media\`), on the client's clock. Turn detection: ${config.turns.detection}, vad.minSilenceMs ${config.vad.minSilenceMs}, turns.pauseMs ${config.turns.pauseMs}.`,
  );
  await app.close();
  await runtime.close();
  mkdirSync(new URL('reports', import.meta.url), { recursive: true });
  writeFileSync(new URL('reports/turns-twilio.md', import.meta.url), `${lines.join('\n')}\n`);
  process.exit(0);
}

/**
 * Whether the VAD and Smart Turn hear a phone line as they hear 16 kHz: where Silero finds each
 * command's speech (start, end) on both, whether steady noise starts a turn, and Smart Turn's
 * verdict on whole commands (finished) and on the same commands cut at an unfinished point
 * (bench/data/pauses.tsv).
 */
async function hearingOnThePhone(clips: ReturnType<typeof frenchCommands>): Promise<void> {
  const vadOptions = {
    threshold: config.vad.threshold,
    minSpeechMs: config.vad.minSpeechMs,
    minSilenceMs: config.vad.minSilenceMs,
    prefixPaddingMs: 0,
  };
  const segments = async (samples: Float32Array, rate: number) => {
    const segmenter = new VadSegmenter(runtime.engines.vad, vadOptions, rate);
    const events = [...(await segmenter.push(samples)), ...(await segmenter.push(new Float32Array(rate)))];
    return events.flatMap((e) => (e.type === 'speech_end' ? [{ start: e.startSec, end: e.endSec }] : []));
  };
  const onPhone = async (path: string) => int16ToFloat32(mulawDecode(await phoneAudio(path)));
  const startDiff: number[] = [];
  const endDiff: number[] = [];
  let sameCount = 0;
  for (const clip of clips) {
    const wav = await readWav(clip.path);
    const wide = await segments(resample(wav.samples, wav.sampleRate, 16000), 16000);
    const phone = await segments(await onPhone(clip.path), 8000);
    if (wide.length === phone.length) sameCount++;
    if (wide.length === 0 || phone.length === 0) continue;
    startDiff.push(Math.abs(phone[0]!.start - wide[0]!.start) * 1000);
    endDiff.push(Math.abs(phone.at(-1)!.end - wide.at(-1)!.end) * 1000);
  }
  let noiseTurns = 0;
  for (const file of ['vad/leopard_empty_noise.wav', 'vad/s2p_background_noise.wav'])
    noiseTurns += (await segments(await onPhone(join(TESTAUDIO_DIR, file)), 8000)).length;
  out('');
  out(
    `Silero on the phone path vs 16 kHz, ${clips.length} commands (vad.threshold ${config.vad.threshold}, minSpeechMs ${config.vad.minSpeechMs}, minSilenceMs ${config.vad.minSilenceMs}): same number of segments for ${sameCount}; speech start differs by ${fmt(percentile(startDiff, 50))} ms p50 / ${fmt(percentile(startDiff, 95))} ms p95, speech end by ${fmt(percentile(endDiff, 50))} / ${fmt(percentile(endDiff, 95))} ms; steady noise (2 files, 21 s) on the phone path: ${noiseTurns} segment(s).`,
  );
  const turn = runtime.engines.turn;
  if (!turn) return out('Smart Turn is not loaded: not measured.');
  const { threshold } = EAGERNESS[config.turns.eagerness];
  const verdicts = { wide: { done: 0, held: 0 }, phone: { done: 0, held: 0 } };
  const cuts = readFileSync(new URL('data/pauses.tsv', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t') as [string, string]);
  for (const [file, cutSec] of cuts) {
    const path = join(TESTAUDIO_DIR, file);
    const wav = await readWav(path);
    const wide = resample(wav.samples, wav.sampleRate, 16000);
    const phone = resample(await onPhone(path), 8000, 16000);
    const cut = Math.round(Number(cutSec) * 16000);
    for (const [key, audio] of [
      ['wide', wide],
      ['phone', phone],
    ] as const) {
      if ((await turn.predict(audio)).probability >= threshold) verdicts[key].done++;
      if ((await turn.predict(audio.subarray(0, cut))).probability < threshold) verdicts[key].held++;
    }
  }
  out(
    `Smart Turn (threshold ${threshold}) on the ${cuts.length} commands of bench/data/pauses.tsv: whole command judged finished ${verdicts.wide.done}/${cuts.length} at 16 kHz, ${verdicts.phone.done}/${cuts.length} on the phone path; cut at the unfinished point judged unfinished ${verdicts.wide.held}/${cuts.length} at 16 kHz, ${verdicts.phone.held}/${cuts.length} on the phone path.`,
  );
}

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
