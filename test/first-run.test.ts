import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';

/**
 * First run: `voice serve` with an empty models folder downloads what its engines need from a
 * mirror (`models.mirror`: here a loopback HTTP server handing out ../shared/models by file
 * name), checks each sha256, warms up and turns ready. A corrupt file is refused by name and
 * sha256; `--offline` stops at once with the import command.
 */
requireSharedAssets();
const dirs: string[] = [];
const servers: Server[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'voice-first-run-'));
  dirs.push(dir);
  return dir;
};

/** A mirror of the shared models on loopback; `corrupt` files are served with one byte changed, others 404 when `only` is set. */
async function mirror(options: { corrupt?: string; only?: string[]; holdMs?: number } = {}): Promise<string> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const path = join(MODELS_DIR, name);
    if (name.includes('/') || !existsSync(path) || (options.only && !options.only.includes(name))) {
      res.writeHead(404).end();
      return;
    }
    if (name === options.corrupt) {
      const bytes = readFileSync(path);
      bytes[bytes.length >> 1]! ^= 0xff;
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      return;
    }
    // The LLM's file is held back a while, so that /ready can be seen mid-download.
    setTimeout(
      () => {
        res.writeHead(200);
        createReadStream(path).pipe(res);
      },
      name.endsWith('.gguf') ? (options.holdMs ?? 0) : 0,
    );
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

function serve(env: Record<string, string>, args: string[] = []) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    ['bin/voice.js', 'serve', '--host', '127.0.0.1', '--port', String(port), ...args],
    {
      env: {
        ...process.env,
        VOICE_LLM_ENGINE: 'llamacpp',
        VOICE_STORE_PATH: ':memory:',
        XDG_CACHE_HOME: tempDir(),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { child, base: `http://127.0.0.1:${port}`, output: () => output };
}

async function readyBody(
  base: string,
  until: (status: number, body: Record<string, unknown>) => boolean,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fetch(`${base}/ready`).then(
      async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }),
      () => undefined,
    );
    if (got && until(got.status, got.body)) return got;
    if (Date.now() > deadline)
      throw new Error(`/ready did not get there in ${timeoutMs} ms: ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('first run', () => {
  it('serve with an empty models folder downloads, verifies and warms up the models, then /ready is 200', async () => {
    const dir = tempDir();
    const s = serve({ MODELS_DIR: dir, VOICE_MODELS_MIRROR: await mirror({ holdMs: 2000 }) });
    // Mid-download, /ready says what it waits for.
    const downloading = await readyBody(
      s.base,
      (_, b) => /download/.test((b.engines as Record<string, { reason?: string }>).llm?.reason ?? ''),
      60_000,
    );
    expect(downloading.status).toBe(503);
    expect((downloading.body.engines as Record<string, { state: string }>).llm!.state).toBe('loading');
    const ready = await readyBody(s.base, (status) => status === 200, 180_000);
    expect(ready.status).toBe(200);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      [
        'SmolLM2-135M-Instruct.Q4_1.gguf',
        'ggml-base-q5_1.bin',
        'silero_vad.onnx',
        'smart-turn-v3.2-cpu.onnx',
      ].sort(),
    );
    const log = s.output();
    expect(log).toMatch(/first run: downloading a missing model/);
    expect(log).toMatch(/"percent":100/);
    expect(log.match(/model downloaded and verified/g)).toHaveLength(4);
    s.child.kill('SIGTERM');
    expect(await new Promise((r) => s.child.on('exit', r))).toBe(0);
  });

  it('a corrupt download is refused by file name and sha256, leaves no file, and /ready says why', async () => {
    const dir = tempDir();
    const s = serve({
      MODELS_DIR: dir,
      VOICE_MODELS_MIRROR: await mirror({ corrupt: 'silero_vad.onnx', only: ['silero_vad.onnx'] }),
    });
    const { status, body } = await readyBody(
      s.base,
      (_, b) =>
        (b.engines as Record<string, { lastError?: { code: string } }> | undefined)?.vad?.lastError?.code ===
        'model_corrupt',
      60_000,
    );
    expect(status).toBe(503);
    const vad = (
      body.engines as Record<string, { state: string; lastError: { code: string; message: string } }>
    ).vad!;
    expect(vad.state).toBe('failed');
    expect(vad.lastError.code).toBe('model_corrupt');
    expect(vad.lastError.message).toMatch(
      /silero_vad\.onnx: downloaded \d+ bytes with sha256 [0-9a-f]{64}, expected/,
    );
    expect(readdirSync(dir)).toEqual([]);
    expect(s.output()).toMatch(/model download failed/);
    s.child.kill('SIGTERM');
  });

  it('--offline with missing models exits non-zero with the import command', () => {
    const r = spawnSync(process.execPath, ['bin/voice.js', 'serve', '--offline', '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, MODELS_DIR: tempDir(), VOICE_LLM_ENGINE: 'llamacpp' },
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /missing models: silero_vad, ggml-base-q5_1, smart-turn-v3\.2-cpu, SmolLM2-135M-Instruct\.Q4_1/,
    );
    expect(r.stderr).toMatch(/voice models import DIR/);
  });
});
