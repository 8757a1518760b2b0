/**
 * Engine benchmark (not a test): load times, VAD cost per frame, STT latency and real-time factor
 * on real 2–5 s French utterances; LLM load, time to first token and tokens/s; TTS time to first
 * chunk and real-time factor per voice. `npm run bench:engines`; MODELS_DIR and TESTAUDIO_DIR locate the
 * shared assets (default ../shared/...). Writes the report to stdout and bench/reports/engines.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { loadConfig, resolveThreads } from '../src/config.js';
import { loadLlm, loadTts } from '../src/engines/factory.js';
import type { LlmEvent } from '../src/engines/llm/types.js';
import { WhisperStt } from '../src/engines/stt/whisper.js';
import { SileroVad } from '../src/engines/vad/silero.js';
import { VAD_FRAME_SAMPLES } from '../src/engines/vad/types.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { MODELS_DIR, frenchCommands } from '../src/testing/testaudio.js';
import { fmt, machineLine, percentile } from './lib.js';

const config = loadConfig();
const sttThreads = resolveThreads(config.stt.threads);
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};

out(`# bench:engines ${new Date().toISOString()}`);
out(await machineLine(`stt ${sttThreads}, vad ${config.vad.threads}`));

const vad = await SileroVad.load(join(MODELS_DIR, 'silero_vad.onnx'), 'silero_vad', {
  threads: config.vad.threads,
  device: 'cpu',
  logger: silentLogger,
});
const stt = WhisperStt.load(join(MODELS_DIR, `${config.stt.model}.bin`), config.stt.model, {
  threads: sttThreads,
  device: config.stt.device,
  logger: silentLogger,
  language: config.stt.language,
  audioCtx: config.stt.audioCtx,
  timeoutMs: config.stt.timeoutMs,
});
out(
  `load: silero_vad ${fmt(vad.info.loadMs)} ms, whisper ${config.stt.model} ${fmt(stt.info.loadMs)} ms (${stt.info.device})`,
);

// VAD: µs per 512-sample frame (32 ms of audio) over all French commands.
const clips = frenchCommands();
const audios = await Promise.all(clips.map((c) => readWav(c.path)));
const stream = vad.createStream();
const frameUs: number[] = [];
for (const a of audios) {
  stream.reset();
  for (let i = 0; i + VAD_FRAME_SAMPLES <= a.samples.length; i += VAD_FRAME_SAMPLES) {
    const t = performance.now();
    await stream.process(a.samples.subarray(i, i + VAD_FRAME_SAMPLES));
    frameUs.push((performance.now() - t) * 1000);
  }
}
out(
  `vad: ${frameUs.length} frames, per 32 ms frame p50 ${frameUs.length ? percentile(frameUs, 50).toFixed(0) : '-'} µs, p95 ${percentile(frameUs, 95).toFixed(0)} µs (real-time factor ${(percentile(frameUs, 50) / 32000).toFixed(4)})`,
);

// STT: utterances of 2 to 5 s, audioCtx as configured; one warm-up first.
const utterances = audios.filter(
  (a) => a.samples.length / a.sampleRate >= 2 && a.samples.length / a.sampleRate <= 5,
);
await stt.transcribe(utterances[0]!, { speechKnown: true });
const latency: number[] = [];
const rtf: number[] = [];
for (const a of utterances) {
  const r = await stt.transcribe(a, { speechKnown: true });
  latency.push(r.timing.totalMs);
  rtf.push(r.timing.rtf);
}
const secs = utterances.map((a) => a.samples.length / a.sampleRate);
out(
  `stt: ${utterances.length} utterances of ${Math.min(...secs).toFixed(1)}–${Math.max(...secs).toFixed(1)} s, audioCtx ${config.stt.audioCtx}: latency p50 ${fmt(percentile(latency, 50))} ms, p95 ${fmt(percentile(latency, 95))} ms; RTF p50 ${percentile(rtf, 50).toFixed(2)}, p95 ${percentile(rtf, 95).toFixed(2)}`,
);
await stt.close();
await vad.close();

// LLM: the configured engine (auto: Ollama if it answers, else embedded); 10 distinct prompts after one warm-up.
const llmStarted = performance.now();
const llm = await loadLlm(config, new ModelManager({ modelsDir: MODELS_DIR }), silentLogger);
out(
  `llm: ${llm.info.engine} ${llm.info.model}, ${llm.info.threads} thread(s), load ${fmt(performance.now() - llmStarted)} ms${llm.info.chosenBecause ? ` (${llm.info.chosenBecause})` : ''}`,
);
const PROMPTS = [
  'Quelle heure est-il à Tokyo quand il est midi à Paris ?',
  'Donne-moi une recette simple de crêpes.',
  'Explique la photosynthèse en deux phrases.',
  'What is the tallest mountain in Europe?',
  'Peux-tu me rappeler d’acheter du pain demain ?',
  'Quel temps fait-il généralement en Bretagne en automne ?',
  'Name three famous French painters.',
  'Comment dit-on « merci » en japonais ?',
  'Résume l’histoire du Petit Prince en une phrase.',
  'How many minutes are there in a day?',
];
const drain = async (prompt: string) => {
  let done: Extract<LlmEvent, { type: 'done' }> | undefined;
  for await (const e of llm.chat([{ role: 'user', content: prompt }], { maxTokens: 64 }))
    if (e.type === 'done') done = e;
  return done!;
};
await drain('Bonjour !');
const ttft: number[] = [];
const tps: number[] = [];
for (const p of PROMPTS) {
  const d = await drain(p);
  if (d.timing.firstTokenMs !== null) ttft.push(d.timing.firstTokenMs);
  if (d.timing.tokensPerSec > 0) tps.push(d.timing.tokensPerSec);
}
out(
  `llm: ${PROMPTS.length} prompts, first token p50 ${fmt(percentile(ttft, 50))} ms, p95 ${fmt(percentile(ttft, 95))} ms; tokens/s p50 ${percentile(tps, 50).toFixed(1)}, p95 ${percentile(tps, 95).toFixed(1)}, slowest ${Math.min(...tps).toFixed(1)}`,
);
await llm.close();

// TTS: time to first chunk and real-time factor per voice, two-sentence texts.
const models = new ModelManager({ modelsDir: MODELS_DIR });
const voices = [
  ...(await models.list())
    .filter((m) => m.model.engine === 'piper' && m.state === 'present')
    .map((m) => m.model.id),
  'espeak:fr',
];
const TEXTS: Record<string, string[]> = {
  en: [
    'Good morning. The kitchen lights are now on.',
    'Your timer is set for ten minutes. I will remind you.',
    'It is sunny today. The temperature is twenty degrees.',
    'I did not understand. Could you say that again?',
    'The front door is locked. Have a nice evening.',
  ],
  fr: [
    'Bonjour. Les lumières de la cuisine sont allumées.',
    'Votre minuteur est réglé sur dix minutes. Je vous préviendrai.',
    'Il fait beau aujourd’hui. Il fait vingt degrés.',
    'Je n’ai pas compris. Pouvez-vous répéter ?',
    'La porte d’entrée est verrouillée. Bonne soirée.',
  ],
};
for (const voice of voices) {
  const tts = await loadTts(config, models, silentLogger, voice);
  const texts = TEXTS[tts.language] ?? TEXTS.fr!;
  for await (const _ of tts.synthesize('Warm-up.')) void _;
  const first: number[] = [];
  const rtfs: number[] = [];
  for (const text of texts) {
    const t0 = performance.now();
    let seconds = 0;
    let firstAt = 0;
    for await (const c of tts.synthesize(text)) {
      firstAt ||= performance.now() - t0;
      seconds += c.samples.length / c.sampleRate;
    }
    first.push(firstAt);
    rtfs.push((performance.now() - t0) / 1000 / seconds);
  }
  out(
    `tts: ${tts.info.engine} ${tts.info.model} (load ${fmt(tts.info.loadMs)} ms): first chunk p50 ${fmt(percentile(first, 50))} ms, p95 ${fmt(percentile(first, 95))} ms; RTF p50 ${percentile(rtfs, 50).toFixed(3)}, p95 ${percentile(rtfs, 95).toFixed(3)}`,
  );
  await tts.close();
}
mkdirSync(new URL('reports', import.meta.url), { recursive: true });
writeFileSync(new URL('reports/engines.md', import.meta.url), lines.join('\n') + '\n');
process.exit(0);
