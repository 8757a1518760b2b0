import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TriadeResult } from '../bench/triade/result.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';

/** The TRIADE bench, one iteration of each figure, on the real engines: so that it cannot rot. */
const out = mkdtempSync(join(tmpdir(), 'triade-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('voice bench triade --quick', () => {
  it('starts the service, measures every aspect and capacity step, and writes the table, JSON, Markdown and SVG', () => {
    requireSharedAssets();
    const r = spawnSync(process.execPath, ['bin/voice.js', 'bench', 'triade', '--quick', '--out', out], {
      encoding: 'utf8',
      // Short answers: the smoke test is about every step running, and an answer's length (the
      // model samples it) otherwise decides the run's time, 95 to 160 s here.
      env: { ...process.env, MODELS_DIR, VOICE_LLM_MAX_TOKENS: '32' },
      timeout: 300_000,
    });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    for (const aspect of ['Qualité', 'Latence', 'Streaming', 'Humanité', 'Connectivité'])
      expect(r.stdout).toMatch(new RegExp(`^\\| ${aspect} \\| \\*\\*\\d+\\.\\d\\*\\*`, 'm'));
    expect(r.stdout).toMatch(/^\| \*\*TRIADE\*\* \| \*\*\d+\.\d \/ 50\*\* \|/m);
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'))!;
    const result = JSON.parse(readFileSync(join(out, json), 'utf8')) as TriadeResult;
    expect(result.latence.coldStartMs).toBeGreaterThan(0);
    // Filler and answer first audio are separate figures, both measured.
    expect(result.streaming.lastWordToFirstAudio.values).toHaveLength(1);
    expect(result.streaming.lastWordToFirstAnswerAudio.values).toHaveLength(1);
    expect(result.capacite.sessions.map((s) => s.sessions)).toEqual([1, 2]);
    expect(result.capacite.sessions.every((s) => s.turns === s.sessions && s.cpuCores > 0)).toBe(true);
    expect(result.connectivite.timeoutsAll).toBe(0);
    expect(readFileSync(join(out, json.replace('.json', '.svg')), 'utf8')).toMatch(
      /^<svg [^>]*>[\s\S]*<\/svg>\n$/,
    );
    expect(readFileSync(join(out, json.replace('.json', '.md')), 'utf8')).toContain('## Capacité');
  }, 300_000);
});
