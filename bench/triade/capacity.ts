/**
 * Capacité: how many simultaneous voice sessions (and /her/chat requests) one instance serves
 * before its first answer audio passes the bar. Each step runs with the server to itself.
 */
import { PROMPTS } from '../data/prompts.js';
import { percentile, runClient } from '../lib.js';
import type { CapacityMeasures } from './capacity-client.js';
import { herChat } from './probes.js';
import { withUsage, type StepUsage } from './server-metrics.js';

/** The knee: the most sessions whose p95 first answer audio stays within this, none failing. */
export const KNEE_MS = 2000;
/** /her/chat: the most requests at once whose p95 first audio stays within 1 s, none refused. */
export const HER_CHAT_KNEE_MS = 1000;

export interface SessionStep extends StepUsage {
  sessions: number;
  turns: number;
  firstAudioP50: number;
  firstAnswerAudioP50: number;
  firstAnswerAudioP95: number;
  underruns: number;
  failed: number;
  timeouts: number;
  errors: string[];
}

export interface HerChatStep extends StepUsage {
  concurrency: number;
  requests: number;
  refused: number;
  perSecond: number;
  firstAudioP95: number;
  totalP95: number;
}

export async function sessionSteps(
  base: string,
  url: string,
  counts: number[],
  turns: number,
  log: (s: string) => void,
): Promise<SessionStep[]> {
  const steps: SessionStep[] = [];
  for (const n of counts) {
    const { value: m, usage } = await withUsage(base, () =>
      runClient<CapacityMeasures>(new URL('./capacity-client.ts', import.meta.url), [
        url,
        String(n),
        String(turns),
      ]),
    );
    const step: SessionStep = {
      sessions: n,
      turns: m.completed,
      firstAudioP50: percentile(m.firstAudio, 50),
      firstAnswerAudioP50: percentile(m.firstAnswerAudio, 50),
      firstAnswerAudioP95: percentile(m.firstAnswerAudio, 95),
      underruns: m.underruns,
      failed: m.failed,
      timeouts: m.timeouts,
      errors: m.errors,
      ...usage,
    };
    steps.push(step);
    log(
      `capacity: ${n} session(s), ${m.completed} turns: first answer audio p50 ${step.firstAnswerAudioP50.toFixed(0)} / p95 ${step.firstAnswerAudioP95.toFixed(0)} ms, ${m.failed} failed, ${m.timeouts} timeouts, CPU ${usage.cpuCores.toFixed(2)} cores`,
    );
  }
  return steps;
}

export function sessionKnee(steps: SessionStep[]): number {
  let knee = 0;
  for (const s of steps) {
    if (s.firstAnswerAudioP95 <= KNEE_MS && s.failed === 0 && s.timeouts === 0 && s.turns > 0)
      knee = s.sessions;
    else break;
  }
  return knee;
}

export async function herChatSteps(
  base: string,
  levels: number[],
  perWorker: number,
  log: (s: string) => void,
): Promise<HerChatStep[]> {
  const steps: HerChatStep[] = [];
  let prompt = 0;
  for (const concurrency of levels) {
    const first: number[] = [];
    const total: number[] = [];
    let refused = 0;
    const t0 = performance.now();
    const { usage } = await withUsage(base, () =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = 0; i < perWorker; i++) {
            const message = PROMPTS[prompt++ % PROMPTS.length]!;
            try {
              const r = await herChat(base, message);
              first.push(r.first);
              total.push(r.total);
            } catch {
              refused++;
            }
          }
        }),
      ),
    );
    const wallSec = (performance.now() - t0) / 1000;
    const step: HerChatStep = {
      concurrency,
      requests: total.length,
      refused,
      perSecond: total.length / wallSec,
      firstAudioP95: percentile(first, 95),
      totalP95: percentile(total, 95),
      ...usage,
    };
    steps.push(step);
    log(
      `capacity: /her/chat × ${concurrency}: ${step.perSecond.toFixed(2)} answers/s, first audio p95 ${step.firstAudioP95.toFixed(0)} ms, ${refused} refused`,
    );
  }
  return steps;
}

export function herChatKnee(steps: HerChatStep[]): number {
  let knee = 0;
  for (const s of steps) {
    if (s.firstAudioP95 <= HER_CHAT_KNEE_MS && s.refused === 0) knee = s.concurrency;
    else break;
  }
  return knee;
}
