import { readFile } from 'node:fs/promises';
import { decodeWav, wavDurationSec } from '../audio/wav.js';
import { loadStt, loadVad, segmenterOptions } from '../engines/factory.js';
import { transcribeLong } from '../engines/stt/long-form.js';
import { toSrt, toVtt } from '../engines/stt/subtitles.js';
import { VoiceError } from '../errors.js';
import { createContext, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.transcribe;
const FORMATS = ['text', 'json', 'srt', 'vtt'] as const;

/**
 * Prints the transcript of a WAV (8–48 kHz, mono or stereo, any length up to `stt.maxAudioSec`)
 * on stdout, and nothing else; on a terminal, a progress bar on stderr for files over 28 s.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { language: { type: 'string', short: 'l' }, json: { type: 'boolean' }, format: { type: 'string' } },
    usage,
  );
  if (values.help) return help();
  if (positionals.length !== 1)
    throw new VoiceError('invalid_argument', `expected one WAV file (usage: ${usage})`);
  const format = values.json ? 'json' : (values.format ?? 'text');
  if (!(FORMATS as readonly string[]).includes(format))
    throw new VoiceError('invalid_argument', `--format takes ${FORMATS.join(', ')}`);
  const ctx = createContext(values, values.language ? { stt: { language: values.language } } : {});
  const path = positionals[0]!;
  const buf = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new VoiceError(
      'file_not_found',
      `${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
    );
  });
  const maxSec = ctx.config.stt.maxAudioSec;
  const sec = wavDurationSec(buf, path);
  if (sec > maxSec)
    throw new VoiceError(
      'audio_too_long',
      `${path} lasts ${Math.round(sec)} s; the limit is ${maxSec} s (stt.maxAudioSec)`,
    );
  const audio = decodeWav(buf, path);
  const vad = await loadVad(ctx.config, ctx.models, ctx.logger);
  const stt = await loadStt(ctx.config, ctx.models, ctx.logger, vad);
  const bar = process.stderr.isTTY ? progressBar() : undefined;
  const result = await transcribeLong(stt, { engine: vad, options: segmenterOptions(ctx.config) }, audio, {
    ...(bar ? { onProgress: bar } : {}),
  });
  if (bar) process.stderr.write('\n');
  ctx.logger.info(
    { timing: result.timing, language: result.language, dropped: result.dropped },
    'transcribed',
  );
  const out =
    format === 'json'
      ? JSON.stringify(result, null, 2) + '\n'
      : format === 'srt'
        ? toSrt(result.segments)
        : format === 'vtt'
          ? toVtt(result.segments)
          : result.text + '\n';
  process.stdout.write(out);
  await stt.close();
  await vad.close();
  return 0;
}

function progressBar() {
  return (doneSec: number, totalSec: number) => {
    const share = totalSec > 0 ? doneSec / totalSec : 1;
    const width = 30;
    const full = Math.round(share * width);
    process.stderr.write(
      `\r[${'#'.repeat(full)}${' '.repeat(width - full)}] ${Math.round(share * 100)} % of ${Math.round(totalSec)} s`,
    );
  };
}

function help(): number {
  process.stdout.write(
    `usage: ${usage}\nPrints the transcript of a WAV file (8 to 48 kHz, mono or stereo, any length up to stt.maxAudioSec).\n`,
  );
  return 0;
}
