import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { freePort } from './helpers.js';

export interface RedisServer {
  url: string;
  /** Stops it (its counts are lost: it keeps nothing on disk); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a real redis-server on 127.0.0.1 (Debian's package, scripts/setup.sh), nothing on disk. */
export async function startRedis(): Promise<RedisServer> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error('Redis tests need redis-server: run bash scripts/setup.sh');
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        log = (log + d.toString()).slice(-5000);
        if (log.includes('Ready to accept connections')) resolve();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', () => reject(new Error(`redis-server exited: ${log}`)));
      setTimeout(() => reject(new Error(`redis-server did not start in 10 s: ${log}`)), 10_000).unref();
    });
    await ready;
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}
