/**
 * What Whisper's encoder context (audio_ctx) does to speed and accuracy on the French commands:
 * `npm run bench:audio-ctx [-- full 1000 750 500 auto]`. Each setting transcribes the 39 scripted
 * commands of fr/s2p_jlo and reports corpus WER and latency.
 */
import { join } from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { loadConfig, resolveThreads } from '../src/config.js';
import { WhisperStt, type AudioCtxSetting } from '../src/engines/stt/whisper.js';
import { silentLogger } from '../src/log.js';
import { MODELS_DIR, frenchCommands } from '../src/testing/testaudio.js';
import { corpusWer } from '../src/testing/wer.js';
import { fmt, machineLine, percentile } from './lib.js';

const config = loadConfig();
const threads = resolveThreads(config.stt.threads);
const args = process.argv.slice(2);
const settings: AudioCtxSetting[] = (args.length ? args : ['full', '1000', '750', '500', 'auto']).map((s) =>
  s === 'full' || s === 'auto' ? s : Number(s),
);
console.log(await machineLine(`stt ${threads}`));
const clips = frenchCommands();
const audios = await Promise.all(clips.map((c) => readWav(c.path)));
console.log('| audio_ctx | WER | latency p50 | p95 |\n|---|---|---|---|');
for (const audioCtx of settings) {
  const stt = WhisperStt.load(join(MODELS_DIR, `${config.stt.model}.bin`), config.stt.model, {
    threads,
    device: 'cpu',
    logger: silentLogger,
    language: 'fr',
    audioCtx,
    timeoutMs: 120_000,
  });
  const pairs = [];
  const ms = [];
  for (const [i, clip] of clips.entries()) {
    const r = await stt.transcribe(audios[i]!, { speechKnown: true });
    pairs.push({ reference: clip.transcript, hypothesis: r.text });
    ms.push(r.timing.totalMs);
  }
  const { wer, edits, words } = corpusWer(pairs);
  console.log(
    `| ${audioCtx} | ${(wer * 100).toFixed(1)} % (${edits}/${words}) | ${fmt(percentile(ms, 50))} ms | ${fmt(percentile(ms, 95))} ms |`,
  );
  await stt.close();
}
process.exit(0);
