import { ConfigError } from '../config.js';
import { VoiceError } from '../errors.js';
import { VERSION } from '../version.js';
import { USAGE } from './usage.js';

type Command = { usage: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./serve.js'),
  transcribe: () => import('./transcribe.js'),
  vad: () => import('./vad.js'),
  chat: () => import('./chat.js'),
  say: () => import('./say.js'),
  models: () => import('./models.js'),
  kb: () => import('./kb.js'),
  doctor: () => import('./doctor.js'),
  config: () => import('./config.js'),
  bench: () => import('./bench.js'),
};

function usage(): string {
  const lines = Object.values(USAGE).map((u) => `  ${u}`);
  return `voice ${VERSION}: self-hosted real-time voice assistant\n\nusage:\n${lines.join('\n')}\n\nevery command also takes --config FILE, --models-dir DIR, --log-level LEVEL\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(
      `voice: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  return (await load()).run(rest);
}

/** Bad input is one line on stderr and a non-zero exit, never a stack trace (unless VOICE_DEBUG=1). */
function report(err: unknown): number {
  if (err instanceof VoiceError) {
    process.stderr.write(`voice: ${err.message} [${err.code}]\n`);
    return err.code === 'invalid_argument' ? 2 : 1;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`voice: ${err.message}\n`);
    return 2;
  }
  const e = err as Error;
  process.stderr.write(
    `voice: unexpected error: ${e?.message ?? String(err)}${process.env.VOICE_DEBUG ? `\n${e?.stack}` : ''}\n`,
  );
  return 1;
}

// Native addons may hold the event loop open: exit explicitly once the command is done.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(report(err)),
);
