import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers.js';

/** The binary scripts/install-weaviate.sh builds (override with WEAVIATE_BIN). */
export const WEAVIATE_BIN =
  process.env.WEAVIATE_BIN ??
  join(
    process.env.VOICE_SERVERS ?? join(homedir(), '.cache/voice-assistant/servers'),
    'gopath/bin/weaviate-server',
  );

export interface WeaviateServer {
  url: string;
  grpcPort: number;
  stop(): Promise<void>;
}

/**
 * Starts a real Weaviate server (single node, anonymous access, no vectorizer module) on free
 * loopback ports with its data in a temp dir, and waits until it is ready (about 10 s: the raft
 * election of a single node). Fails loudly when the binary is missing.
 */
export async function startWeaviate(): Promise<WeaviateServer> {
  if (!existsSync(WEAVIATE_BIN))
    throw new Error(
      `Weaviate tests need ${WEAVIATE_BIN}: run bash scripts/install-weaviate.sh (or set WEAVIATE_BIN)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'voice-weaviate-'));
  const ports = await Promise.all(Array.from({ length: 6 }, freePort));
  const [port, grpcPort, gossip, data, raft, raftRpc] = ports as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const env = {
    ...process.env,
    AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'true',
    PERSISTENCE_DATA_PATH: dir,
    DEFAULT_VECTORIZER_MODULE: 'none',
    ENABLE_MODULES: '',
    CLUSTER_HOSTNAME: 'node1',
    CLUSTER_BIND_ADDR: '127.0.0.1',
    CLUSTER_ADVERTISE_ADDR: '127.0.0.1',
    CLUSTER_GOSSIP_BIND_PORT: String(gossip),
    CLUSTER_DATA_BIND_PORT: String(data),
    RAFT_PORT: String(raft),
    RAFT_INTERNAL_RPC_PORT: String(raftRpc),
    RAFT_BOOTSTRAP_EXPECT: '1',
    RAFT_JOIN: `node1:${raft}`,
    GRPC_PORT: String(grpcPort),
    DISABLE_TELEMETRY: 'true',
    GO_PROFILING_DISABLE: 'true',
    LOG_LEVEL: 'warning',
    GOMAXPROCS: '2',
  };
  const child: ChildProcess = spawn(
    WEAVIATE_BIN,
    ['--host', '127.0.0.1', '--port', String(port), '--scheme', 'http'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`weaviate exited: ${log}`);
      const up = await fetch(`${url}/v1/.well-known/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 600) throw new Error(`weaviate was not ready in 60 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, grpcPort, stop };
}
