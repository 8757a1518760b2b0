import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ANONYMOUS_OWNER } from '../src/http/auth.js';
import { heardText, type SpokenSpan } from '../src/session/conversation.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { FakeLlm, FakeStt, FakeTts } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { listenForTest, loadTestVad, MODELS_DIR } from './helpers.js';
import { buildPage, launchChromium, micFile, shown, waitForStats } from './web-harness.js';

/**
 * Barge-in on the voice page, in Chromium: the microphone (a real recording) says a command, then
 * "annuler" while the answer plays. The real Silero VAD hears the voice (`x_speech_onset`, then
 * `speech_started`); the answer is scripted, twenty sentences of a tone whose length follows the
 * text, so that the answer is still playing at the second utterance and what was heard of it can
 * be computed exactly.
 */
const SENTENCE_MS_PER_CHAR = 60;
const SENTENCES = Array.from(
  { length: 20 },
  (_, i) => `Voici la phrase ${String(i + 1).padStart(2, '0')} de cette longue réponse. `,
);
const tmp = mkdtempSync(join(tmpdir(), 'voice-barge-in-'));
let app: Awaited<ReturnType<typeof listenForTest>>['app'];
let store: SqliteStore;
let base: string;
let browser: Browser;
let tts: FakeTts;
let secondUtteranceSec: number;

beforeAll(async () => {
  buildPage();
  const config = loadConfig({
    env: { MODELS_DIR },
    overrides: { realtime: { fillers: false }, turns: { detection: 'server_vad' } },
  });
  tts = new FakeTts(() => ({ msPerChar: SENTENCE_MS_PER_CHAR }));
  const runtime = await fakeRuntime(
    {
      vad: await loadTestVad(),
      stt: new FakeStt((call) => ({ text: call === 0 ? 'Allume la lumière.' : 'Annuler.' })),
      llm: new FakeLlm((call) => (call === 0 ? { tokens: SENTENCES } : { tokens: ["D'accord."] })),
      voices: new Map([['fake', tts]]),
    },
    config,
  );
  ({ app, base, store } = await listenForTest(config, runtime));
  // The answer starts about a second after the command ends; "annuler" comes 4 s later.
  const mic = await micFile(tmp, 'barge-in', [
    1,
    'fr/s2p_jlo/jlo_02_allume_la_lumiere.wav',
    4,
    'fr/s2p_jlo/jlo_10_annuler.wav',
    30,
  ]);
  secondUtteranceSec = mic.startsSec[3]!;
  browser = await launchChromium(mic.path);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('barge-in on the voice page', () => {
  it('playback stops within 100 ms of the second utterance, and the stored answer is what was played', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/?language=fr`);
    tts.calls.length = 0;
    await page.click('#start');
    const s = await waitForStats(page, (s) => s.truncations > 0, 60_000, 'the truncate of the answer');
    try {
      // The second utterance's first sound, as the page's microphone heard it, and the moment the
      // answer went silent (both on the AudioContext's clock).
      const silenced = s.silencedAt[0]!;
      const onset = Math.max(...s.micOnsets.filter((t) => t <= silenced));
      expect(s.micOnsets.length).toBeGreaterThanOrEqual(2);
      expect(onset).toBeGreaterThan(s.micOnsets[0]!); // not the command's
      const stopMs = (silenced - onset) * 1000;
      console.log(
        `barge-in: playback silenced ${stopMs.toFixed(0)} ms after the voice began (${s.pauses} pause at onset), ${s.lastTruncateMs} ms of the answer played; "annuler" at ${secondUtteranceSec.toFixed(2)} s into the microphone file`,
      );
      expect(stopMs).toBeGreaterThanOrEqual(0);
      expect(stopMs).toBeLessThanOrEqual(100);
      expect(s.pauses).toBeGreaterThanOrEqual(1);
      expect(s.lastTruncateMs).toBeGreaterThan(500);

      // The stored answer: the sentences heard whole, then the heard share of the one cut through.
      let at = 0;
      const answerCalls = tts.calls.filter((t) => t.startsWith('Voici'));
      const spans: SpokenSpan[] = answerCalls.map((text) => {
        const span = { text, startMs: at, endMs: at + SENTENCE_MS_PER_CHAR * text.length };
        at = span.endMs;
        return span;
      });
      const full = spans.map((x) => x.text).join(' ');
      const expected = heardText(spans, s.lastTruncateMs);
      let stored = '';
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const items = await store.history(ANONYMOUS_OWNER, s.sessionId);
        stored = items.find((i) => i.id === s.truncatedItem)?.text ?? '';
        if (stored === expected) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stored).toBe(expected);
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.length).toBeLessThan(full.length);
      expect(errors).toEqual([]);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the page showed: ${await shown(page)}`, { cause: err });
    }
    await page.click('#start');
    await page.close();
  });
});
