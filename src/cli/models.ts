import { VoiceError } from '../errors.js';
import type { Progress } from '../models/manager.js';
import { createContext, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.models;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, usage);
  const [sub, ...args] = positionals;
  if (values.help || !sub) {
    process.stdout.write(
      `usage: ${usage}\n  list         each model of models/manifest.json: present, missing or corrupt\n  fetch ID...  download from the upstream URL (resumes, checks sha256)\n  import DIR   copy verified files from a local folder (offline)\n`,
    );
    return sub || values.help ? 0 : 2;
  }
  const ctx = createContext(values);
  const m = ctx.models;
  switch (sub) {
    case 'list': {
      const rows = await m.list();
      const width = Math.max(...rows.map((r) => r.model.id.length));
      process.stdout.write(`models folders: ${m.dirs.join(', ')}\n`);
      for (const r of rows) {
        const bytes = r.model.files.reduce((a, f) => a + f.bytes, 0);
        const where = r.files.find((f) => f.path)?.path;
        const why = r.files.filter((f) => f.reason).map((f) => `${f.file.name}: ${f.reason}`);
        process.stdout.write(
          `${r.model.id.padEnd(width)}  ${r.state.padEnd(7)}  ${r.model.engine.padEnd(10)}  ${formatBytes(bytes).padStart(8)}  ${r.state === 'present' && where ? where : why.join('; ')}\n`,
        );
      }
      return rows.some((r) => r.state === 'corrupt') ? 1 : 0;
    }
    case 'fetch': {
      if (args.length === 0)
        throw new VoiceError('invalid_argument', `fetch needs at least one model id (usage: ${usage})`);
      for (const id of args) m.get(id); // unknown ids fail before any download
      for (const id of args) {
        const status = await m.fetch(id, { onProgress: progressBar() });
        process.stderr.write('\n');
        process.stdout.write(`${id}: ${status.state} in ${m.targetDir}\n`);
      }
      return 0;
    }
    case 'import': {
      if (args.length !== 1)
        throw new VoiceError('invalid_argument', `import needs one folder (usage: ${usage})`);
      const results = await m.import(args[0]!);
      if (results.length === 0) process.stdout.write(`no file of models/manifest.json in ${args[0]}\n`);
      for (const r of results)
        process.stdout.write(`${r.file}: ${r.result}${r.detail ? ` (${r.detail})` : ''} -> ${m.targetDir}\n`);
      return results.some((r) => r.result === 'corrupt') ? 1 : 0;
    }
    default:
      throw new VoiceError('invalid_argument', `unknown models command "${sub}" (usage: ${usage})`);
  }
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e3).toFixed(1)} kB`;
}

/** A progress bar on stderr; on a non-terminal one line per 10 %. */
function progressBar(): (p: Progress) => void {
  let lastDecile = -1;
  let lastDraw = 0;
  return (p) => {
    const frac = p.total > 0 ? p.done / p.total : 0;
    const line = `${p.file} [${'#'.repeat(Math.round(frac * 30)).padEnd(30)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(p.done)}/${formatBytes(p.total)} ${formatBytes(p.bytesPerSec)}/s`;
    if (process.stderr.isTTY) {
      const now = Date.now();
      if (now - lastDraw > 100 || p.done === p.total) {
        process.stderr.write(`\r${line}`);
        lastDraw = now;
      }
    } else if (Math.floor(frac * 10) > lastDecile) {
      lastDecile = Math.floor(frac * 10);
      process.stderr.write(`${line}\n`);
    }
  };
}
