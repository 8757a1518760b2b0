import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceError } from '../errors.js';
import { ModelManager } from './manager.js';
import { readManifest, type Manifest } from './manifest.js';

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: Server;
let base = '';
let requests: { range?: string }[] = [];
/** First full request is cut after 100 kB, as a dropped connection would. */
let cutFirst = false;
/** First full request sends 50 kB, then nothing, keeping the connection open. */
let stallFirst = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (req.url !== '/m.bin') {
      res.writeHead(404).end();
      return;
    }
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (stallFirst && !range) {
      stallFirst = false;
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 50_000));
      return;
    }
    if (cutFirst && !range) {
      cutFirst = false;
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 100_000), () => res.destroy());
      return;
    }
    res.writeHead(range ? 206 : 200, { 'content-length': payload.length - start });
    res.end(payload.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function setup(digest = sha(payload)) {
  const root = mkdtempSync(join(tmpdir(), 'voice-models-'));
  const manifest: Manifest = {
    models: [
      {
        id: 'm',
        engine: 'whisper',
        description: 'test',
        licence: 'MIT',
        source: 'https://example.org',
        files: [{ name: 'm.bin', bytes: payload.length, sha256: digest, url: `${base}/m.bin` }],
      },
    ],
  };
  const configured = join(root, 'configured');
  const cwd = join(root, 'cwd');
  mkdirSync(join(cwd, 'models'), { recursive: true });
  const manager = new ModelManager({ manifest, modelsDir: configured, cwd, cacheFile: join(root, 'cache.json') });
  return { root, configured, cwd, manager };
}

const err = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as VoiceError;
  }
  throw new Error('expected an error');
};

describe('ModelManager', () => {
  it('the real manifest is valid: ids are file stems, digests and sizes well-formed', () => {
    const m = readManifest();
    const ids = m.models.map((x) => x.id);
    for (const id of ['ggml-tiny', 'ggml-base', 'ggml-small', 'ggml-large-v3-turbo', 'ggml-base-q5_1', 'silero_vad', 'en_US-joe-medium', 'fr_FR-siwis-medium', 'fr_FR-upmc-medium', 'fr_FR-gilles-low', 'fr_FR-tom-medium', 'SmolLM2-135M-Instruct.Q4_1'])
      expect(ids).toContain(id);
    for (const model of m.models) expect(model.files[0]!.url).toMatch(/^https:\/\//);
  });

  it('reports missing, present and corrupt files, configured folder first', async () => {
    const { manager, configured, cwd } = setup();
    expect((await manager.status('m')).state).toBe('missing');
    writeFileSync(join(cwd, 'models', 'm.bin'), payload);
    const local = await manager.status('m');
    expect(local.state).toBe('present');
    expect(local.files[0]!.path).toBe(join(cwd, 'models', 'm.bin'));
    mkdirSync(configured);
    writeFileSync(join(configured, 'm.bin'), Buffer.concat([payload.subarray(1), Buffer.from([0])]));
    const corrupt = await manager.status('m');
    expect(corrupt.state).toBe('corrupt');
    expect(corrupt.files[0]!.path).toBe(join(configured, 'm.bin'));
  });

  it('a missing or corrupt model is an error naming the file, the sha256 and the fixing command', async () => {
    const { manager, configured } = setup();
    const missing = await err(manager.resolve('m'));
    expect(missing.code).toBe('model_missing');
    expect(missing.message).toContain('m.bin');
    expect(missing.message).toContain(sha(payload));
    expect(missing.message).toContain('voice models fetch m');
    mkdirSync(configured);
    writeFileSync(join(configured, 'm.bin'), Buffer.alloc(payload.length));
    const corrupt = await err(manager.resolve('m'));
    expect(corrupt.code).toBe('model_corrupt');
    expect(corrupt.message).toContain(join(configured, 'm.bin'));
    expect(corrupt.message).toContain(sha(payload));
    expect((await err(manager.resolve('nope'))).code).toBe('model_unknown');
  });

  it('fetches into the configured folder and resumes a cut download with a range request', async () => {
    const { manager, configured } = setup();
    cutFirst = true;
    requests = [];
    const first = await err(manager.fetch('m'));
    expect(first.code).toBe('download_failed');
    expect(readFileSync(join(configured, 'm.bin.part')).length).toBe(100_000);
    const progress: number[] = [];
    const status = await manager.fetch('m', { onProgress: (p) => progress.push(p.done) });
    expect(status.state).toBe('present');
    expect(requests.at(-1)).toEqual({ range: 'bytes=100000-' });
    expect(progress.at(-1)).toBe(payload.length);
    expect(sha(readFileSync(join(configured, 'm.bin')))).toBe(sha(payload));
    expect(existsSync(join(configured, 'm.bin.part'))).toBe(false);
  });

  it('cuts a download that stalls and resumes it on the next fetch', async () => {
    const { manager, configured } = setup();
    stallFirst = true;
    const stalled = await err(manager.fetch('m', { stallMs: 300 }));
    expect(stalled.code).toBe('download_failed');
    expect(stalled.message).toMatch(/interrupted at 50000 of 300000 bytes/);
    expect(readFileSync(join(configured, 'm.bin.part')).length).toBe(50_000);
    expect((await manager.fetch('m')).state).toBe('present');
  });

  it('refuses a download whose sha256 does not match and removes it', async () => {
    const { manager, configured } = setup('0'.repeat(64));
    const e = await err(manager.fetch('m'));
    expect(e.code).toBe('model_corrupt');
    expect(existsSync(join(configured, 'm.bin'))).toBe(false);
    expect(existsSync(join(configured, 'm.bin.part'))).toBe(false);
  });

  it('imports verified files from a folder and refuses corrupt ones', async () => {
    const { manager, root, configured } = setup();
    const src = join(root, 'usb');
    mkdirSync(src);
    writeFileSync(join(src, 'm.bin'), Buffer.alloc(payload.length));
    expect(await manager.import(src)).toEqual([{ file: 'm.bin', model: 'm', result: 'corrupt', detail: expect.stringMatching(/^sha256 /) as unknown }]);
    writeFileSync(join(src, 'm.bin'), payload);
    expect((await manager.import(src))[0]!.result).toBe('imported');
    expect((await manager.status('m')).files[0]!.path).toBe(join(configured, 'm.bin'));
    expect((await manager.import(src))[0]!.result).toBe('already present');
    expect((await err(manager.import(join(root, 'nowhere')))).code).toBe('file_not_found');
  });
});
