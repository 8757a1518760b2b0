import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  /** `http://127.0.0.1:PORT` */
  base: string;
  child: ChildProcess;
  /** performance.now() when the process was started, and when it logged that it listens. */
  startedAt: number;
  listeningAt: number;
  stop(): Promise<void>;
}

/**
 * `voice serve` in its own process on a free port, with its own store in a temporary folder: a
 * benchmark client then measures the service as a remote client would. Warnings and errors of the
 * server's JSON log (stderr) are passed on. `listeningAt`: performance.now() when it said so.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  options: { compiled?: boolean } = {},
): Promise<ServerProcess> {
  const data = mkdtempSync(join(tmpdir(), 'voice-bench-'));
  // Compiled: `bin/voice.js`, as `npm start` and the image run it (a cold start without tsx).
  const entry = options.compiled ? ['bin/voice.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...entry, 'serve', '--port', '0'], {
    env: {
      ...process.env,
      VOICE_STORE_PATH: join(data, 'conversations.db'),
      VOICE_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stderr });
    rl.on('line', (line) => {
      const m = /listening at (http:\/\/[\d.]+:\d+)/.exec(line);
      if (m) resolve(m[1]!);
      if (/"level":[456]0/.test(line)) process.stderr.write(`server: ${line}\n`);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    base,
    child,
    startedAt,
    listeningAt: performance.now(),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/**
 * Polls /ready every `everyMs` until 200; returns its report. A server not listening yet (or
 * restarting) is polled on; after `timeoutMs` it fails with the last status.
 */
export async function waitReady<T>(base: string, everyMs = 25, timeoutMs = 120_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/ready`).catch(() => undefined);
    if (res?.status === 200) return (await res.json()) as T;
    await res?.body?.cancel();
    if (performance.now() > deadline)
      throw new Error(`${base} not ready in ${timeoutMs} ms (last ${res?.status ?? 'no answer'})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
