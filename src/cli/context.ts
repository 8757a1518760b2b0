import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config, type ConfigInput } from '../config.js';
import { VoiceError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { ModelManager } from '../models/manager.js';

/** Options every subcommand accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string' },
  'models-dir': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface CliContext {
  config: Config;
  logger: Logger;
  models: ModelManager;
}

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  usage: string,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new VoiceError('invalid_argument', `${(err as Error).message.split('\n')[0]} (usage: ${usage})`);
  }
}

export function createContext(values: Record<string, unknown>, overrides: ConfigInput = {}): CliContext {
  const o: ConfigInput = { ...overrides };
  if (typeof values['models-dir'] === 'string') o.models = { dir: values['models-dir'] };
  if (typeof values['log-level'] === 'string')
    o.log = { level: values['log-level'] as Config['log']['level'] };
  const config = loadConfig({
    overrides: o,
    ...(typeof values.config === 'string' ? { file: values.config } : {}),
  });
  // CLI commands keep stdout for their output: logs go to stderr, warnings and up unless asked.
  const level =
    typeof values['log-level'] === 'string'
      ? config.log.level
      : process.env.VOICE_LOG_LEVEL
        ? config.log.level
        : 'warn';
  const logger = createLogger(level, 2);
  const models = new ModelManager({ modelsDir: config.models.dir, mirror: config.models.mirror });
  return { config, logger, models };
}

export function number(name: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n))
    throw new VoiceError('invalid_argument', `--${name} expects a number, got ${JSON.stringify(raw)}`);
  return n;
}
