import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32ToInt16 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { encodeWav, readWav } from '../src/audio/wav.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime, type Runtime } from '../src/runtime/runtime.js';
import { listenForTest, MODELS_DIR, requireSharedAssets, TESTAUDIO_DIR } from './helpers.js';

/**
 * The voice page in Debian's Chromium (playwright-core), its microphone fed a real French
 * utterance (Chromium's fake capture device), against the service on the real engines. The page
 * is built first, as `npm run build` builds it (dist/web).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const tmp = mkdtempSync(join(tmpdir(), 'voice-web-'));
let runtime: Runtime;
let app: Awaited<ReturnType<typeof listenForTest>>['app'];
let base: string;
let browser: Browser;

/** The utterance at 48 kHz with silence around it (Chromium loops the file). */
async function micFile(name: string): Promise<string> {
  const wav = await readWav(join(TESTAUDIO_DIR, 'fr/s2p_jlo', name));
  const speech = resample(wav.samples, wav.sampleRate, 48000);
  const samples = new Float32Array(48000 * 1 + speech.length + 48000 * 12);
  samples.set(speech, 48000);
  const path = join(tmp, name);
  writeFileSync(path, encodeWav(float32ToInt16(samples), 48000));
  return path;
}

beforeAll(async () => {
  requireSharedAssets();
  // The page as the sources say now (npm run build does the same).
  execFileSync(process.execPath, ['scripts/build-web.js'], { stdio: 'inherit' });
  const config = loadConfig({ env: { MODELS_DIR }, overrides: { llm: { engine: 'llamacpp' } } });
  runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
  ({ app, base } = await listenForTest(config, runtime));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${await micFile('jlo_02_allume_la_lumiere.wav')}`,
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await runtime?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Stats = { framesPlayed: number; audioDeltas: number };
// Page code is given as strings: this test is type-checked without the DOM library.
const stats = (page: Page) => page.evaluate<Stats>('window.voiceStats');

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
      const seen = `state ${await page.textContent('#state')}, log ${await page.textContent('#log')}, stats ${JSON.stringify(await stats(page))}`;
      throw new Error(`${(err as Error).message}; the page showed: ${seen}`, { cause: err });
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
