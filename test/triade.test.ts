import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cadence } from '../bench/triade/cadence.js';
import { ASPECTS, RULES, rulesMarkdown, score, scoreCriterion } from '../bench/triade/score.js';
import type { ServerEvent } from '../src/protocol/server-events.js';

const rule = (id: string) => RULES.find((r) => r.id === id)!;

describe('TRIADE scoring', () => {
  it('gives each aspect 10 points in all', () => {
    for (const aspect of ASPECTS)
      expect(RULES.filter((r) => r.aspect === aspect).reduce((a, r) => a + r.points, 0)).toBe(10);
  });

  it('scores linearly between full marks and none, both ways, and clamps outside', () => {
    const ttfa = rule('ttfa_p95'); // lower is better: 50 ms full, 250 ms none
    expect(scoreCriterion(ttfa, 40, 'cpu')).toBe(3);
    expect(scoreCriterion(ttfa, 150, 'cpu')).toBeCloseTo(1.5);
    expect(scoreCriterion(ttfa, 400, 'cpu')).toBe(0);
    const pauses = rule('pauses_held'); // higher is better: 90 % full, 50 % none
    expect(scoreCriterion(pauses, 70, 'cpu')).toBeCloseTo(1.5);
    expect(scoreCriterion(pauses, 100, 'cpu')).toBe(3);
    expect(scoreCriterion(rule('ws_timeouts'), 1, 'cpu')).toBe(0);
    expect(scoreCriterion(rule('ws_timeouts'), NaN, 'cpu')).toBeUndefined();
  });

  it('holds a GPU run to the GPU targets', () => {
    const e2e = rule('e2e_p50');
    expect(scoreCriterion(e2e, 1000, 'cpu')).toBe(3);
    expect(scoreCriterion(e2e, 1000, 'gpu')).toBe(0);
  });

  it('scales an aspect from its measured criteria and says how many points were measured', () => {
    const [qualite] = score({ stt_wer: 10 }, 'cpu');
    expect(qualite).toMatchObject({ aspect: 'Qualité', score: 10, measuredPoints: 6 });
    const [withTests] = score({ stt_wer: 10, tests_failed: 2 }, 'cpu');
    expect(withTests).toMatchObject({ score: 6, measuredPoints: 10 });
  });

  it('docs/triade.md shows the rules the code applies', () => {
    // Table rows cell by cell: prettier pads the cells of the checked-in copy.
    const rows = (markdown: string) =>
      markdown
        .split('\n')
        .filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l))
        .map((l) =>
          l
            .split('|')
            .map((c) => c.trim())
            .join('|'),
        );
    const docs = rows(readFileSync('docs/triade.md', 'utf8'));
    for (const row of rows(rulesMarkdown())) expect(docs).toContain(row);
  });
});

describe('TRIADE output cadence', () => {
  /** 24 kHz PCM16: `ms` of audio is ms × 48 bytes. */
  const audio = (at: number, ms: number) =>
    ({
      type: 'response.output_audio.delta',
      response_id: 'r',
      delta: Buffer.alloc(ms * 48).toString('base64'),
      at,
    }) as unknown as ServerEvent & { at: number };
  const text = (at: number) =>
    ({
      type: 'response.output_audio_transcript.delta',
      response_id: 'r',
      delta: 'x',
      at,
    }) as unknown as ServerEvent & {
      at: number;
    };

  it('measures the silence the filler left and counts answer chunks that came after playback ran dry', () => {
    const events = [
      audio(0, 500), // the filler, played 0–500
      text(800),
      audio(800, 400), // the answer: 300 ms of silence after the filler; plays 800–1200
      audio(1000, 400), // in time: plays 1200–1600
      audio(1610, 200), // 10 ms late: within one frame
      audio(2000, 200), // ran dry at 1810: an underrun
    ];
    expect(cadence(events, 'r', 24000)).toEqual({ underruns: 1, fillerGapMs: 300 });
  });

  it('has no filler gap without a filler, and none when the answer came before the filler ended', () => {
    expect(cadence([text(100), audio(100, 500), audio(300, 500)], 'r', 24000)).toEqual({
      underruns: 0,
      fillerGapMs: undefined,
    });
    expect(cadence([audio(0, 500), text(200), audio(200, 500)], 'r', 24000).fillerGapMs).toBe(0);
  });
});
