import { readWav } from '../audio/wav.js';
import { loadStt, loadVad } from '../engines/factory.js';
import { VoiceError } from '../errors.js';
import { createContext, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.transcribe;

/** Prints the transcript of a WAV (8–48 kHz, mono or stereo) on stdout, and nothing else. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { language: { type: 'string', short: 'l' }, json: { type: 'boolean' } },
    usage,
  );
  if (values.help) return help();
  if (positionals.length !== 1)
    throw new VoiceError('invalid_argument', `expected one WAV file (usage: ${usage})`);
  const ctx = createContext(values, values.language ? { stt: { language: values.language } } : {});
  const audio = await readWav(positionals[0]!);
  const vad = await loadVad(ctx.config, ctx.models, ctx.logger);
  const stt = await loadStt(ctx.config, ctx.models, ctx.logger, vad);
  const result = await stt.transcribe(audio);
  ctx.logger.info(
    { timing: result.timing, language: result.language, dropped: result.dropped },
    'transcribed',
  );
  process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : result.text + '\n');
  await stt.close();
  await vad.close();
  return 0;
}

function help(): number {
  process.stdout.write(
    `usage: ${usage}\nPrints the transcript of a WAV file (8 to 48 kHz, mono or stereo).\n`,
  );
  return 0;
}
