import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VoiceError } from '../errors.js';
import { parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.bench;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCHES: Record<string, string> = { triade: 'bench/triade.ts' };

/**
 * Runs a benchmark of the source checkout (bench/, with the dev dependencies): it measures the
 * service from outside, as a client, so it is not part of the installed service itself.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      quick: { type: 'boolean' },
      out: { type: 'string' },
      url: { type: 'string' },
      'with-tests': { type: 'boolean' },
      sessions: { type: 'string' },
    },
    usage,
  );
  if (values.help) {
    process.stdout.write(
      `usage: ${usage}\nMeasures the service and prints its TRIADE table (docs/triade.md).\n`,
    );
    return 0;
  }
  const script = BENCHES[positionals[0] ?? ''];
  if (!script || positionals.length !== 1)
    throw new VoiceError(
      'invalid_argument',
      `expected one benchmark: ${Object.keys(BENCHES).join(', ')} (usage: ${usage})`,
    );
  if (!existsSync(`${ROOT}/${script}`) || !existsSync(`${ROOT}/node_modules/tsx`))
    throw new VoiceError(
      'invalid_argument',
      `voice bench runs from a source checkout with its dev dependencies (${script} and tsx not found under ${ROOT})`,
    );
  const args: string[] = [];
  if (values.quick) args.push('--quick');
  if (values['with-tests']) args.push('--with-tests');
  for (const name of ['out', 'url', 'sessions'] as const) {
    const value = values[name];
    if (typeof value === 'string') args.push(`--${name}`, value);
  }
  const env = { ...process.env };
  if (typeof values['models-dir'] === 'string') env.MODELS_DIR = resolve(values['models-dir']);
  // The service it starts reads the same configuration.
  if (typeof values.config === 'string') env.VOICE_CONFIG = resolve(values.config);
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
