import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime, type Runtime } from '../src/runtime/runtime.js';
import { listenForTest, MODELS_DIR, requireSharedAssets } from './helpers.js';
import { buildPage, launchChromium, micFile, shown, stats } from './web-harness.js';

/**
 * The voice page in Debian's Chromium (playwright-core), its microphone fed a real French
 * utterance (Chromium's fake capture device), against the service on the real engines.
 */
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const tmp = mkdtempSync(join(tmpdir(), 'voice-web-'));
let runtime: Runtime;
let app: Awaited<ReturnType<typeof listenForTest>>['app'];
let base: string;
let browser: Browser;

beforeAll(async () => {
  requireSharedAssets();
  buildPage();
  const config = loadConfig({ env: { MODELS_DIR }, overrides: { llm: { engine: 'llamacpp' } } });
  runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
  ({ app, base } = await listenForTest(config, runtime));
  const mic = await micFile(tmp, 'command', [1, 'fr/s2p_jlo/jlo_02_allume_la_lumiere.wav', 12]);
  browser = await launchChromium(mic.path);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await runtime?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the voice page at /', () => {
  it('is served with its CSP and microphone policy', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(res.headers.get('permissions-policy')).toMatch(/microphone=\(self\)/);
    expect(await res.text()).toContain('/app/main.js');
    expect((await fetch(`${base}/app/other.js`)).status).toBe(404);
  });

  it('a French command spoken into the microphone shows its transcript and the answer, plays it, and shows the latency', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/?language=fr`);
    expect(await page.textContent('#start')).toBe('Démarrer');
    await page.click('#start');
    // Locators, not page-side functions: the page's CSP forbids evaluating strings.
    try {
      await page.locator('#log li.user', { hasText: /lumi/i }).first().waitFor({ timeout: 90_000 });
      await page.locator('#log li.assistant', { hasText: /\S/ }).first().waitFor({ timeout: 60_000 });
      await page.locator('#latency[data-heard-ms]').waitFor({ timeout: 60_000 });
    } catch (err) {
      throw new Error(`${(err as Error).message}; the page showed: ${await shown(page)}`, { cause: err });
    }
    const s = await stats(page);
    expect(s.audioDeltas).toBeGreaterThan(0);
    expect(s.framesPlayed).toBeGreaterThan(48000 * 0.3);
    expect(await page.textContent('#start')).toBe('Arrêter');
    expect(await page.textContent('#latency')).toMatch(/premier son entendu: \d+ ms/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'voice-page.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.click('#start');
    await page.close();
  });
});
