import { spawn } from 'node:child_process';
import { VoiceError, abortReason } from '../../errors.js';
import { splitClauses, type Clause } from './text/clauses.js';

export const ESPEAK = process.env.ESPEAK_NG_BIN ?? 'espeak-ng';

/** Runs espeak-ng with `args`, `input` on stdin; abortable; rejects with a clear error if it is missing. */
export function runEspeak(args: string[], input: string, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const child = spawn(ESPEAK, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new VoiceError(
          'engine_unavailable',
          e.code === 'ENOENT'
            ? `${ESPEAK} not found: install espeak-ng (scripts/setup.sh does)`
            : `espeak-ng: ${e.message}`,
        ),
      ),
    );
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(abortReason(signal));
      else if (code !== 0)
        reject(new VoiceError('engine_failed', `espeak-ng exited with ${code}: ${err.trim()}`));
      else resolve(Buffer.concat(out));
    });
    child.stdin.end(input);
  });
}

/**
 * Text to IPA the way Piper does it: espeak-ng phonemizes clause by clause and each clause keeps
 * its punctuation ("həlˈoʊ wˈɜːld, hˈaʊ ɑːɹ juː?"). Through the `espeak-ng` CLI (one process per
 * sentence, ≈ 15 ms): in-process libespeak-ng would need a native addon of its own to build.
 * espeak-ng writes one line per clause; when its lines do not match our clauses, each clause is
 * phonemized on its own.
 */
export async function phonemize(text: string, voice: string, signal?: AbortSignal): Promise<string> {
  const clauses = splitClauses(text);
  if (clauses.length === 0) return '';
  const lines = await espeakLines(
    clauses.map((c) => `${c.text}${c.punctuation || '.'}`).join(' '),
    voice,
    signal,
  );
  let phonemes: string[];
  if (lines.length === clauses.length) phonemes = lines;
  else {
    phonemes = [];
    for (const c of clauses) phonemes.push((await espeakLines(`${c.text}.`, voice, signal)).join(' '));
  }
  return join(clauses, phonemes);
}

async function espeakLines(text: string, voice: string, signal?: AbortSignal): Promise<string[]> {
  const out = await runEspeak(['-q', '--ipa', '-b', '1', '-v', voice], text, signal);
  return out
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function join(clauses: Clause[], phonemes: string[]): string {
  return clauses
    .map((c, i) => `${phonemes[i]}${c.punctuation}`)
    .join(' ')
    .normalize('NFD');
}
