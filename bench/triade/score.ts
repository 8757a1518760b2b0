/**
 * The TRIADE scoring rules: five aspects out of 10, each the sum of criteria scored linearly
 * between a value worth full marks and one worth none. The values come from the service's
 * targets (docs/triade.md is generated from this table: `rulesMarkdown()`); a GPU run is held to
 * the GPU targets, a CPU run to the CPU ones.
 */

export const ASPECTS = ['Qualité', 'Latence', 'Streaming', 'Humanité', 'Connectivité'] as const;
export type Aspect = (typeof ASPECTS)[number];
export type Profile = 'cpu' | 'gpu';

export interface Rule {
  aspect: Aspect;
  id: string;
  /** What is measured, as the report shows it. */
  name: string;
  unit: 'ms' | '%' | 'count' | 'ratio';
  points: number;
  /** Value worth full marks and value worth none, per profile; between them, linear. */
  full: Record<Profile, number>;
  zero: Record<Profile, number>;
  /** Where the values come from. */
  why: string;
}

const both = (v: number) => ({ cpu: v, gpu: v });

export const RULES: Rule[] = [
  {
    aspect: 'Qualité',
    id: 'stt_wer',
    name: 'STT WER, French commands (/v1/audio/transcriptions)',
    unit: '%',
    points: 6,
    full: both(10),
    zero: both(40),
    why: 'Whisper base on short commands: 10 % is what it reaches on clean speech; at 40 % commands fail.',
  },
  {
    aspect: 'Qualité',
    id: 'tests_failed',
    name: 'test suite failures (`--with-tests`)',
    unit: 'count',
    points: 4,
    full: both(0),
    zero: both(1),
    why: 'Every test passes, or none of these points.',
  },
  {
    aspect: 'Latence',
    id: 'chat_first_token_p50',
    name: '/chat first token, p50',
    unit: 'ms',
    points: 3,
    full: { cpu: 300, gpu: 100 },
    zero: { cpu: 1500, gpu: 500 },
    why: 'The first token starts the first sentence; it must leave room for the TTS within the turn budget.',
  },
  {
    aspect: 'Latence',
    id: 'chat_total_p50',
    name: '/chat whole answer, p50',
    unit: 'ms',
    points: 2,
    full: { cpu: 2000, gpu: 500 },
    zero: { cpu: 8000, gpu: 2000 },
    why: 'Short spoken answers (one to three sentences).',
  },
  {
    aspect: 'Latence',
    id: 'tts_first_byte_p50',
    name: '/tts first byte, p50',
    unit: 'ms',
    points: 3,
    full: { cpu: 300, gpu: 100 },
    zero: { cpu: 1500, gpu: 500 },
    why: "The seed's RTX 4090 run had TTS at 159 ms; a sentence on CPU should start within 300 ms.",
  },
  {
    aspect: 'Latence',
    id: 'cold_start',
    name: 'cold start, process start → /ready 200',
    unit: 'ms',
    points: 2,
    full: both(3000),
    zero: both(12000),
    why: 'Issue 20: ≤ 3 s; the service took 5–12 s before.',
  },
  {
    aspect: 'Streaming',
    id: 'ttfa_p95',
    name: 'turn committed → first audio (filler), p95',
    unit: 'ms',
    points: 3,
    full: both(50),
    zero: both(250),
    why: 'First audio < 50 ms after the turn ends (product target, CPU and GPU alike: fillers are ready).',
  },
  {
    aspect: 'Streaming',
    id: 'e2e_p50',
    name: 'last word → first answer audio, p50',
    unit: 'ms',
    points: 3,
    full: { cpu: 1200, gpu: 200 },
    zero: { cpu: 3000, gpu: 1000 },
    why: 'E2E < 200 ms on GPU (the seed: 178 ms on an RTX 4090); on 2 CPU cores Whisper alone takes longer.',
  },
  {
    aspect: 'Streaming',
    id: 'her_chat_first_audio_p50',
    name: '/her/chat first audio, p50',
    unit: 'ms',
    points: 2,
    full: both(1000),
    zero: both(3000),
    why: '`/her/chat` < 1 s (product target).',
  },
  {
    aspect: 'Streaming',
    id: 'underruns_per_turn',
    name: 'answer audio underruns per turn',
    unit: 'count',
    points: 2,
    full: both(0),
    zero: both(1),
    why: 'Once the answer starts, its audio must not stop until it ends.',
  },
  {
    aspect: 'Humanité',
    id: 'fillers_per_turn',
    name: 'fillers per voice turn',
    unit: 'ratio',
    points: 2,
    full: both(0.9),
    zero: both(0),
    why: 'Fillers play the instant a turn ends, unless the answer is already there.',
  },
  {
    aspect: 'Humanité',
    id: 'barge_in_p50',
    name: 'barge-in: speech onset → last audio byte, p50',
    unit: 'ms',
    points: 3,
    full: both(300),
    zero: both(1000),
    why: 'A person stops within a few hundred ms when talked over; 250 ms of speech is needed to tell a cough from a word.',
  },
  {
    aspect: 'Humanité',
    id: 'round_trip_wer',
    name: 'answers TTS → STT round-trip WER',
    unit: '%',
    points: 2,
    full: both(10),
    zero: both(50),
    why: 'The answers must be intelligible: what the voice says, Whisper hears.',
  },
  {
    aspect: 'Humanité',
    id: 'pauses_held',
    name: 'mid-sentence pauses held as one turn',
    unit: '%',
    points: 3,
    full: both(90),
    zero: both(50),
    why: 'No user cut off mid-sentence (product target).',
  },
  {
    aspect: 'Connectivité',
    id: 'ws_timeouts',
    name: 'WebSocket timeouts (all steps)',
    unit: 'count',
    points: 4,
    full: both(0),
    zero: both(1),
    why: 'Zero WebSocket timeouts (product target).',
  },
  {
    aspect: 'Connectivité',
    id: 'chunks_taken',
    name: 'audio chunks taken, in and out',
    unit: '%',
    points: 2,
    full: both(100),
    zero: both(90),
    why: "No audio lost either way: a command's chunks in, at least 30 chunks of its answer out.",
  },
  {
    aspect: 'Connectivité',
    id: 'ping_p95',
    name: 'WebSocket ping round trip, p95',
    unit: 'ms',
    points: 2,
    full: both(5),
    zero: both(100),
    why: 'The event loop answers at once even while engines run (loopback).',
  },
  {
    aspect: 'Connectivité',
    id: 'connect_p50',
    name: 'WebSocket connect → session.created, p50',
    unit: 'ms',
    points: 1,
    full: both(20),
    zero: both(500),
    why: 'A session opens before the user starts speaking.',
  },
  {
    aspect: 'Connectivité',
    id: 'health_ok',
    name: '/health and /ready answer 200',
    unit: 'ratio',
    points: 1,
    full: both(1),
    zero: both(0),
    why: 'A load balancer can tell it is up.',
  },
];

export interface CriterionScore {
  rule: Rule;
  value: number | undefined;
  score: number | undefined;
}

export interface AspectScore {
  aspect: Aspect;
  /** Out of 10; scaled from the measured criteria when some were not measured. */
  score: number;
  measuredPoints: number;
  criteria: CriterionScore[];
}

export function scoreCriterion(rule: Rule, value: number | undefined, profile: Profile): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined;
  const full = rule.full[profile];
  const zero = rule.zero[profile];
  const share = (value - zero) / (full - zero);
  return rule.points * Math.min(1, Math.max(0, share));
}

/** The five aspects from the measured values (by rule id; missing or NaN: not measured). */
export function score(values: Record<string, number | undefined>, profile: Profile): AspectScore[] {
  return ASPECTS.map((aspect) => {
    const criteria = RULES.filter((r) => r.aspect === aspect).map((rule) => ({
      rule,
      value: values[rule.id],
      score: scoreCriterion(rule, values[rule.id], profile),
    }));
    const measured = criteria.filter((c) => c.score !== undefined);
    const measuredPoints = measured.reduce((a, c) => a + c.rule.points, 0);
    const got = measured.reduce((a, c) => a + c.score!, 0);
    return {
      aspect,
      score: measuredPoints === 0 ? 0 : (got / measuredPoints) * 10,
      measuredPoints,
      criteria,
    };
  });
}

/** The rules as docs/triade.md shows them. */
export function rulesMarkdown(): string {
  const lines = [
    '| aspect | criterion | points | CPU: full → zero | GPU: full → zero | from |',
    '|---|---|---|---|---|---|',
  ];
  const v = (n: number, unit: Rule['unit']) => (unit === 'ms' ? `${n} ms` : unit === '%' ? `${n} %` : `${n}`);
  for (const r of RULES)
    lines.push(
      `| ${r.aspect} | ${r.name} | ${r.points} | ${v(r.full.cpu, r.unit)} → ${v(r.zero.cpu, r.unit)} | ${v(r.full.gpu, r.unit)} → ${v(r.zero.gpu, r.unit)} | ${r.why} |`,
    );
  return `${lines.join('\n')}\n`;
}
