import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, MODELS_DIR } from './helpers.js';

/** The binary scripts/install-ollama.sh builds (override with OLLAMA_BIN). */
export const OLLAMA_BIN =
  process.env.OLLAMA_BIN ??
  join(process.env.VOICE_SERVERS ?? join(homedir(), '.cache/voice-assistant/servers'), 'gopath/bin/ollama');

export interface OllamaServer {
  url: string;
  model: string;
  stop(): Promise<void>;
  /** The runner's last prompt: its length and how many of its tokens came from the cache. */
  lastCacheLoad(): { prompt: number; used: number } | undefined;
}

/**
 * Starts a real Ollama server on loopback with its home and models folder in a temp dir, and
 * creates `smollm2:135m` from the shared GGUF. Fails loudly when the binary is missing.
 */
export async function startOllama(): Promise<OllamaServer> {
  if (!existsSync(OLLAMA_BIN))
    throw new Error(
      `Ollama tests need ${OLLAMA_BIN}: run bash scripts/install-ollama.sh (or set OLLAMA_BIN)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'voice-ollama-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HOME: dir,
    OLLAMA_HOST: host,
    OLLAMA_MODELS: join(dir, 'models'),
    OLLAMA_NO_CLOUD: '1',
    OLLAMA_NOPRUNE: '1',
    // Debug logs say how much of each prompt the runner found in its cache (`lastCacheLoad`).
    OLLAMA_DEBUG: '1',
  };
  const child: ChildProcess = spawn(OLLAMA_BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20000)));
  const url = `http://${host}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`ollama serve exited: ${log}`);
      const up = await fetch(`${url}/api/version`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 100) throw new Error(`ollama serve did not answer in 10 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    writeFileSync(join(dir, 'Modelfile'), `FROM ${join(MODELS_DIR, 'SmolLM2-135M-Instruct.Q4_1.gguf')}\n`);
    await new Promise<void>((resolve, reject) => {
      const create = spawn(OLLAMA_BIN, ['create', 'smollm2:135m', '-f', join(dir, 'Modelfile')], {
        env,
        stdio: 'pipe',
      });
      let out = '';
      create.stderr.on('data', (d: Buffer) => (out += d.toString()));
      create.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`ollama create failed: ${out}`)),
      );
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const lastCacheLoad = () => {
    const m = [...log.matchAll(/loading cache slot.* prompt=(\d+) used=(\d+)/g)].at(-1);
    return m ? { prompt: Number(m[1]), used: Number(m[2]) } : undefined;
  };
  return { url, model: 'smollm2:135m', stop, lastCacheLoad };
}
