import { readWav } from '../audio/wav.js';
import { loadVad, segmenterOptions } from '../engines/factory.js';
import { detectSpeech } from '../engines/vad/segmenter.js';
import { resample } from '../audio/resample.js';
import { VoiceError } from '../errors.js';
import { createContext, number, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.vad;

/** One line per speech segment: start and end in seconds. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      threshold: { type: 'string' },
      'min-silence-ms': { type: 'string' },
      'min-speech-ms': { type: 'string' },
    },
    usage,
  );
  if (values.help) {
    process.stdout.write(`usage: ${usage}\nPrints one line per speech segment: start and end, in seconds.\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new VoiceError('invalid_argument', `expected one WAV file (usage: ${usage})`);
  const threshold = number('threshold', values.threshold);
  const minSilenceMs = number('min-silence-ms', values['min-silence-ms']);
  const minSpeechMs = number('min-speech-ms', values['min-speech-ms']);
  const ctx = createContext(values, {
    vad: {
      ...(threshold !== undefined ? { threshold } : {}),
      ...(minSilenceMs !== undefined ? { minSilenceMs } : {}),
      ...(minSpeechMs !== undefined ? { minSpeechMs } : {}),
    },
  });
  const audio = await readWav(positionals[0]!);
  const vad = await loadVad(ctx.config, ctx.models, ctx.logger);
  // The segmenter takes 8/16/24/48 kHz; other WAV rates are brought to 16 kHz first.
  const rate = [8000, 16000, 24000, 48000].includes(audio.sampleRate) ? audio.sampleRate : 16000;
  const samples = rate === audio.sampleRate ? audio.samples : resample(audio.samples, audio.sampleRate, rate);
  const segments = await detectSpeech(vad, samples, rate, segmenterOptions(ctx.config));
  for (const s of segments) process.stdout.write(`${s.startSec.toFixed(3)}\t${s.endSec.toFixed(3)}\n`);
  await vad.close();
  return 0;
}
