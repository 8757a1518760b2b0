import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from './helpers.js';

/** `voice serve` (compiled: bin/voice.js) as its own process on a fixed loopback port, restartable. */
export interface Instance {
  port: number;
  base: string;
  /** Starts the process (again, after a stop or a kill) and resolves once it listens. */
  start(): Promise<void>;
  /** SIGTERM: the service drains (answers finish) and exits; resolves on exit. */
  stop(): Promise<void>;
  /** SIGKILL: the process dies mid-whatever. */
  kill(): Promise<void>;
  /** Warnings and errors it logged (its JSON log lines at level 40 and above). */
  problems: string[];
  running(): boolean;
}

export async function serviceInstance(
  env: Record<string, string>,
  /** CPUs the process may run on (`taskset -c`), e.g. `0`: one instance per core, as on its own box. */
  cpus?: string,
): Promise<Instance> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const problems: string[] = [];
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
  const instance: Instance = {
    port,
    base: `http://127.0.0.1:${port}`,
    problems,
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    async start() {
      const command = [
        process.execPath,
        'bin/voice.js',
        'serve',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
      ];
      const [file, ...args] = cpus ? ['taskset', '-c', cpus, ...command] : command;
      const c = spawn(file!, args, {
        env: { ...process.env, VOICE_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = c;
      let exited: number | null | undefined;
      c.once('exit', (code) => (exited = code));
      createInterface({ input: c.stderr }).on('line', (line) => {
        if (/"level":[456]0/.test(line)) problems.push(line);
      });
      // It listens once /health answers (whatever its log level says).
      for (let i = 0; ; i++) {
        if (exited !== undefined)
          throw new Error(`voice serve exited with ${exited}: ${problems.join('\n')}`);
        const up = await fetch(`${instance.base}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
        if (i > 600) throw new Error(`voice serve did not listen in 60 s: ${problems.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!child || !instance.running()) return;
      child.kill('SIGTERM');
      await exited(child);
    },
    async kill() {
      if (!child || !instance.running()) return;
      child.kill('SIGKILL');
      await exited(child);
    },
  };
  return instance;
}

export { waitReady } from '../bench/server-process.js';

export interface LoadBalancer {
  base: string;
  stop(): Promise<void>;
}

/** Debian's haproxy running deploy/haproxy.cfg itself, in front of the given instances. */
export async function startHaproxy(instances: { port: number }[]): Promise<LoadBalancer> {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'pipe' });
  } catch {
    throw new Error('cluster tests need haproxy: run bash scripts/setup.sh');
  }
  const port = await freePort();
  const env = {
    ...process.env,
    VOICE_LB_BIND: `127.0.0.1:${port}`,
    ...Object.fromEntries(instances.map((i, n) => [`VOICE_INSTANCE_${n + 1}`, `127.0.0.1:${i.port}`])),
  };
  const child = spawn('haproxy', ['-db', '-f', 'deploy/haproxy.cfg'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-5000)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${log}`);
    const up = await fetch(`${base}/health`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 100) throw new Error(`haproxy did not answer in 10 s: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The instances HAProxy sends requests to now: `/health`'s `instance` over `tries` requests. */
export async function instancesBehind(lb: LoadBalancer, tries = 8): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries; i++) {
    const r = await fetch(`${lb.base}/health`).then((r) => r.json() as Promise<{ instance: string }>);
    seen.add(r.instance);
  }
  return seen;
}
