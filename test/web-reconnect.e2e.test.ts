import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { ANONYMOUS_OWNER } from '../src/http/auth.js';
import { silentLogger } from '../src/log.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { FakeLlm, FakeStt } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { loadTestVad, MODELS_DIR } from './helpers.js';
import { buildPage, launchChromium, micFile, shown, waitForStats } from './web-harness.js';

/**
 * The voice page survives a restart of the service: its WebSocket closes (1001), it reconnects
 * with backoff to the same session id, the restarted service reads that conversation from its
 * database, and the next spoken turn is answered with it. The microphone says a command every
 * 9.4 s (Chromium loops the file); the real Silero VAD hears it; the answers are scripted.
 */
const tmp = mkdtempSync(join(tmpdir(), 'voice-reconnect-'));
const dbPath = join(tmp, 'conversations.db');
let config: Config;
let runtime: Runtime;
let llm: FakeLlm;
let server: { app: Awaited<ReturnType<typeof buildServer>>; store: SqliteStore } | undefined;
let port = 0;
let browser: Browser;

/** The service on `port` (a free one the first time) with the conversations in `dbPath`. */
async function start() {
  const store = new SqliteStore(dbPath);
  const app = await buildServer({ config, logger: silentLogger, runtime: () => runtime, store });
  await app.listen({ host: '127.0.0.1', port });
  port = (app.server.address() as { port: number }).port;
  server = { app, store };
}

async function stop() {
  await server?.app.close();
  await server?.store.close();
  server = undefined;
}

beforeAll(async () => {
  buildPage();
  config = loadConfig({
    env: { MODELS_DIR },
    overrides: { realtime: { fillers: false }, turns: { detection: 'server_vad' } },
  });
  llm = new FakeLlm((call) => ({ tokens: [call === 0 ? 'Première réponse.' : 'Deuxième réponse.'] }));
  runtime = await fakeRuntime(
    { vad: await loadTestVad(), stt: new FakeStt(() => ({ text: 'Allume la lumière.' })), llm },
    config,
  );
  await start();
  const mic = await micFile(tmp, 'command', [1, 'fr/s2p_jlo/jlo_02_allume_la_lumiere.wav', 6]);
  browser = await launchChromium(mic.path);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the voice page reconnects', () => {
  it('after the service restarts mid-session, the page reconnects to the same conversation and the next turn is answered', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/?language=fr`);
    await page.click('#start');
    const assistant = page.locator('#log li.assistant');
    try {
      await page.locator('#log li.assistant', { hasText: 'Première réponse.' }).waitFor({ timeout: 30_000 });
      const before = await waitForStats(page, (s) => s.sessionId !== '', 1000, 'the session id');
      await stop();
      await page.locator('#state', { hasText: 'Reconnexion' }).waitFor({ timeout: 5000 });
      await start();
      const after = await waitForStats(page, (s) => s.connections >= 2, 15_000, 'the second connection');
      expect(after.sessionId).toBe(before.sessionId);
      await page.locator('#log li.assistant', { hasText: 'Deuxième réponse.' }).waitFor({ timeout: 30_000 });
      expect(await assistant.count()).toBe(2);
      expect(await page.textContent('#state')).toBe('À l’écoute');
      // The second answer was prompted with the first turn, read back from the database.
      expect(llm.calls[1]!.map((m) => m.content)).toEqual(
        expect.arrayContaining(['Allume la lumière.', 'Première réponse.']),
      );
      const stored = await server!.store.history(ANONYMOUS_OWNER, before.sessionId);
      expect(stored.map((i) => `${i.role}: ${i.text}`)).toEqual([
        'user: Allume la lumière.',
        'assistant: Première réponse.',
        'user: Allume la lumière.',
        'assistant: Deuxième réponse.',
      ]);
      expect(errors).toEqual([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the page showed: ${await shown(page)}`, { cause: err });
    }
    await page.click('#start');
    await page.close();
  });
});
