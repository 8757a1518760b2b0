import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SileroVad } from '../src/engines/vad/silero.js';
import { silentLogger } from '../src/log.js';
import { MODELS_DIR, TESTAUDIO_DIR } from '../src/testing/testaudio.js';

/** Real-engine tests need ../shared (or MODELS_DIR / TESTAUDIO_DIR): fail loudly, never skip. */
export function requireSharedAssets(): void {
  for (const p of [
    join(MODELS_DIR, 'silero_vad.onnx'),
    join(MODELS_DIR, 'ggml-base-q5_1.bin'),
    join(TESTAUDIO_DIR, 'manifest.tsv'),
  ])
    if (!existsSync(p))
      throw new Error(`real-engine tests need ${p}: set MODELS_DIR (and TESTAUDIO_DIR) to the shared assets`);
}

export { MODELS_DIR, TESTAUDIO_DIR };

/** The real Silero VAD from the shared models, one thread. */
export function loadTestVad(): Promise<SileroVad> {
  requireSharedAssets();
  return SileroVad.load(join(MODELS_DIR, 'silero_vad.onnx'), 'silero_vad', {
    threads: 1,
    device: 'cpu',
    logger: silentLogger,
  });
}

export { listenOnLoopback as listenForTest } from '../src/testing/listen.js';

/** A self-signed certificate for 127.0.0.1 and localhost (one day), written into `dir`. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** A TCP port free on loopback now (for servers the tests start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
