import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { concatFloat32, float32ToInt16 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { encodeWav, readWav } from '../src/audio/wav.js';
import { TESTAUDIO_DIR } from './helpers.js';

/** The voice page's end-to-end harness: Debian's Chromium, its microphone fed a real recording. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Builds the page as `npm run build` does (dist/web), from the sources as they are now. */
export function buildPage(): void {
  execFileSync(process.execPath, ['scripts/build-web.js'], { stdio: 'inherit' });
}

/** A recording under testaudio/, or seconds of silence. */
export type MicPart = string | number;

/**
 * The microphone's input at 48 kHz: recordings and silences in a row. Chromium loops the file,
 * so it should end with enough silence for the test. Returns its path and where each part starts.
 */
export async function micFile(
  dir: string,
  name: string,
  parts: MicPart[],
): Promise<{ path: string; startsSec: number[] }> {
  const rate = 48000;
  const chunks: Float32Array[] = [];
  const startsSec: number[] = [];
  let length = 0;
  for (const part of parts) {
    startsSec.push(length / rate);
    let chunk: Float32Array;
    if (typeof part === 'number') chunk = new Float32Array(Math.round(part * rate));
    else {
      const wav = await readWav(join(TESTAUDIO_DIR, part));
      chunk = resample(wav.samples, wav.sampleRate, rate);
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  const samples = concatFloat32(chunks);
  const path = join(dir, `${name}.wav`);
  writeFileSync(path, encodeWav(float32ToInt16(samples), rate));
  return { path, startsSec };
}

/** Chromium with a fake microphone playing `micPath` (granted without a prompt). */
export function launchChromium(micPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micPath}`,
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
}

/** `window.voiceStats` of the page (see web/main.ts). */
export interface VoiceStats {
  framesPlayed: number;
  audioDeltas: number;
  truncations: number;
  lastTruncateMs: number;
  truncatedItem: string;
  pauses: number;
  resumes: number;
  micOnsets: number[];
  silencedAt: number[];
  sessionId: string;
  connections: number;
}

// Page code is given as strings: the tests are type-checked without the DOM library.
export const stats = (page: Page) => page.evaluate<VoiceStats>('window.voiceStats');

/** Polls the page's stats until `ready` holds; the error shows what the page showed. */
export async function waitForStats(
  page: Page,
  ready: (s: VoiceStats) => boolean,
  timeoutMs: number,
  what: string,
): Promise<VoiceStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(page);
    if (ready(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the page showed: ${await shown(page)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the page shows: for failure messages. */
export async function shown(page: Page): Promise<string> {
  return `state ${await page.textContent('#state')}, log ${await page.textContent('#log')}, stats ${JSON.stringify(await stats(page))}`;
}
