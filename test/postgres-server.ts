import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './helpers.js';

/** Debian's PostgreSQL binaries (scripts/setup.sh installs them); override with PG_BINDIR. */
export const PG_BINDIR = process.env.PG_BINDIR ?? findBindir();

function findBindir(): string {
  for (const v of ['17', '16', '15']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'postgres'))) return dir;
  }
  return '/usr/lib/postgresql/15/bin';
}

export interface PostgresServer {
  /** `postgres://` URL of a fresh database on loopback. */
  url: string;
  port: number;
  /** Stops the server, keeping its files (start() brings it back on the same port). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
  /** A new empty database on this server, and its URL. */
  createDatabase(name: string): Promise<string>;
}

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 with its files in a temp dir (initdb, trust
 * auth, fsync off). PostgreSQL refuses to run as root, so as root it runs as the `postgres` user
 * the Debian package creates. Fails loudly when the binaries are missing.
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (!existsSync(join(PG_BINDIR, 'postgres')))
    throw new Error(
      `PostgreSQL tests need ${PG_BINDIR}/postgres: run bash scripts/setup.sh (or set PG_BINDIR)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'voice-pg-'));
  const asRoot = userInfo().uid === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    ids = { uid, gid };
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  execFileSync(
    join(PG_BINDIR, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'],
    { stdio: 'pipe', ...ids },
  );
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';
  const base = `postgres://postgres@127.0.0.1:${port}`;

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      join(PG_BINDIR, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-k',
        dir,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...ids },
    );
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-10000)));
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      const client = new pg.Client({ connectionString: `${base}/postgres`, connectionTimeoutMillis: 1000 });
      const up = await client.connect().then(
        () => client.end().then(() => true),
        () => false,
      );
      if (up) return;
      if (i > 200) throw new Error(`postgres did not answer in 20 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    // Fast shutdown: sessions are cut, as when a database server goes away.
    c.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
  };
  const destroy = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const createDatabase = async (name: string) => {
    const client = new pg.Client({ connectionString: `${base}/postgres` });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return `${base}/${name}`;
  };
  try {
    await start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return { url: await createDatabase('voice'), port, stop, start, destroy, createDatabase };
}
