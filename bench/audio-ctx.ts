/**
 * What Whisper's encoder context (audio_ctx) does to speed and accuracy on the French commands:
 * `npm run bench:audio-ctx [-- full 1000 750 500 auto 750:5]` (`:5` = beam search of width 5). Each setting transcribes the 39 scripted
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
/** Each argument is an audio_ctx setting, optionally with a beam width: `750`, `full:5`. */
const settings = (args.length ? args : ['full', '1000', '750', '500', 'auto']).map((arg) => {
  const [ctx, beam] = arg.split(':') as [string, string | undefined];
  const audioCtx: AudioCtxSetting = ctx === 'full' || ctx === 'auto' ? ctx : Number(ctx);
  return { audioCtx, beamSize: beam ? Number(beam) : 1 };
});
console.log(await machineLine(`stt ${threads}`));
const clips = frenchCommands();
const audios = await Promise.all(clips.map((c) => readWav(c.path)));
console.log('| audio_ctx | beam | WER | latency p50 | p95 |\n|---|---|---|---|---|');
for (const { audioCtx, beamSize } of settings) {
  const stt = WhisperStt.load(join(MODELS_DIR, `${config.stt.model}.bin`), config.stt.model, {
    threads,
    device: 'cpu',
    logger: silentLogger,
    language: 'fr',
    audioCtx,
    beamSize,
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
    `| ${audioCtx} | ${beamSize} | ${(wer * 100).toFixed(1)} % (${edits}/${words}) | ${fmt(percentile(ms, 50))} ms | ${fmt(percentile(ms, 95))} ms |`,
  );
  await stt.close();
}
process.exit(0);
