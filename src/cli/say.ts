import { writeFileSync } from 'node:fs';
import { concatFloat32, float32ToInt16 } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';
import { encodeWav } from '../audio/wav.js';
import { loadTts } from '../engines/factory.js';
import { VoiceError } from '../errors.js';
import { createContext, number, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.say;

/** Synthesizes text to a WAV file (plays nothing). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { output: { type: 'string', short: 'o' }, voice: { type: 'string' }, rate: { type: 'string' } },
    usage,
  );
  if (values.help) {
    process.stdout.write(
      `usage: ${usage}\nWrites the text spoken by a Piper voice (or espeak-ng) to a 16-bit WAV.\n`,
    );
    return 0;
  }
  const text = positionals.join(' ').trim();
  if (!text) throw new VoiceError('invalid_argument', `nothing to say (usage: ${usage})`);
  if (!values.output) throw new VoiceError('invalid_argument', `-o OUT.wav is required (usage: ${usage})`);
  const rate = number('rate', values.rate);
  if (rate !== undefined && (rate < 0.25 || rate > 4))
    throw new VoiceError('invalid_argument', '--rate must be between 0.25 and 4');
  const ctx = createContext(values);
  const tts = await loadTts(ctx.config, ctx.models, ctx.logger, values.voice ?? ctx.config.tts.voice);
  const parts: Float32Array[] = [];
  let sampleRate = 0;
  for await (const chunk of tts.synthesize(text, rate !== undefined ? { rate } : {})) {
    sampleRate ||= chunk.sampleRate;
    parts.push(
      chunk.sampleRate === sampleRate ? chunk.samples : resample(chunk.samples, chunk.sampleRate, sampleRate),
    );
  }
  if (parts.length === 0) throw new VoiceError('invalid_argument', 'the text has nothing to speak');
  const samples = concatFloat32(parts);
  writeFileSync(values.output, encodeWav(float32ToInt16(samples), sampleRate));
  process.stderr.write(
    `voice say: ${tts.info.engine} ${tts.info.model}, ${(samples.length / sampleRate).toFixed(2)} s at ${sampleRate} Hz -> ${values.output}\n`,
  );
  await tts.close();
  return 0;
}
