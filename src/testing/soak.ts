import type { ServerEvent } from '../protocol/server-events.js';
import { RealtimeTestClient } from './realtime-client.js';
import { prng } from './prng.js';

export interface SoakOptions {
  /** `ws://…/v1/realtime` of a server on real engines. */
  url: string;
  sessions: number;
  durationMs: number;
  /** WAV files of real speech, streamed at real-time pace. */
  clips: string[];
  /** Share of turns interrupted by the next one, at a random moment of the answer. */
  bargeInRate: number;
  seed: number;
  /** A response with no response.done this long after its turn ends is wedged. */
  turnTimeoutMs: number;
  /** Resident memory of the server, sampled every few seconds. */
  rss: () => number;
  log?: (line: string) => void;
}

export interface SoakReport {
  turns: number;
  bargeIns: number;
  responses: { created: number; completed: number; cancelled: number; failed: number };
  /** Error codes the server sent, with their counts. */
  errors: Record<string, number>;
  /** Turns whose response never ended, and sessions that stopped answering. */
  wedged: number;
  /** Completed responses that sent no audio. */
  silent: number;
  /** Ms from the end of the user's clip to the first answer audio, completed turns only. */
  answerAudioMs: number[];
  rss: { atMs: number; bytes: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const responseOf = (e: ServerEvent) => e.response as { id: string; status: string };

/**
 * Several voice sessions talking at once for a while: each streams real speech, and some turns
 * are cut by the next one at a random moment (during transcription, the answer or its playback).
 * Every response must end with response.done, no session may stop answering, and every completed
 * answer must have audio. The server's memory is sampled along the way.
 */
export async function soak(o: SoakOptions): Promise<SoakReport> {
  const report: SoakReport = {
    turns: 0,
    bargeIns: 0,
    responses: { created: 0, completed: 0, cancelled: 0, failed: 0 },
    errors: {},
    wedged: 0,
    silent: 0,
    answerAudioMs: [],
    rss: [],
  };
  const started = performance.now();
  const end = started + o.durationMs;
  const sampler = setInterval(
    () => report.rss.push({ atMs: performance.now() - started, bytes: o.rss() }),
    2000,
  );
  try {
    await Promise.all(
      Array.from({ length: o.sessions }, (_, i) =>
        // Staggered starts, as people arrive.
        sleep(i * 700).then(() => session(o, prng(o.seed + i), end, report)),
      ),
    );
  } finally {
    clearInterval(sampler);
  }
  report.rss.push({ atMs: performance.now() - started, bytes: o.rss() });
  return report;
}

async function session(o: SoakOptions, random: () => number, end: number, report: SoakReport) {
  const client = await RealtimeTestClient.connect(o.url);
  // Short answers: the soak is about many turns, not long listening.
  client.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 40 } });
  await client.waitFor('session.updated');
  /** Responses seen so far, by id: their audio, and whether they ended. */
  const responses = new Map<string, { audio: boolean; done: boolean }>();
  const count = (e: ServerEvent) => {
    if (e.type === 'response.created') {
      responses.set(responseOf(e).id, { audio: false, done: false });
      report.responses.created++;
    } else if (e.type === 'response.output_audio_transcript.delta') {
      const r = responses.get(e.response_id as string);
      if (r) r.audio = true;
    } else if (e.type === 'response.done') {
      const { id, status } = responseOf(e);
      const r = responses.get(id);
      if (r) r.done = true;
      if (status === 'completed') {
        report.responses.completed++;
        if (!r?.audio) report.silent++;
      } else if (status === 'cancelled') report.responses.cancelled++;
      else report.responses.failed++;
    } else if (e.type === 'error') {
      const code = (e.error as { code: string }).code;
      report.errors[code] = (report.errors[code] ?? 0) + 1;
    }
  };
  let seen = 0;
  const drain = () => {
    for (; seen < client.events.length; seen++) count(client.events[seen]!);
  };
  try {
    while (performance.now() < end) {
      const clip = o.clips[Math.floor(random() * o.clips.length)]!;
      const bargeIn = random() < o.bargeInRate;
      const streamedAt = client.events.length;
      await client.streamWav(clip, 900);
      const clipEnd = performance.now() - 900;
      report.turns++;
      if (bargeIn) {
        // The next clip interrupts this answer somewhere between its transcription and playback.
        report.bargeIns++;
        await sleep(random() * 2500);
      } else {
        // A microphone keeps sending while the user waits: semantic_vad may need more silence
        // than the clip's tail (up to 1.5 s) to end a turn it judged unfinished.
        const listening = new AbortController();
        const silence = client.streamPcm(
          new Float32Array((24000 * o.turnTimeoutMs) / 1000),
          listening.signal,
        );
        const created = await client
          .waitFor('response.created', {
            timeoutMs: o.turnTimeoutMs,
            match: (e) => client.events.indexOf(e as (typeof client.events)[number]) >= streamedAt,
          })
          .catch(() => undefined)
          .finally(() => listening.abort());
        await silence;
        if (created) {
          const id = responseOf(created).id;
          const done = await client
            .waitFor('response.done', { timeoutMs: o.turnTimeoutMs, match: (e) => responseOf(e).id === id })
            .catch(() => undefined);
          if (!done) {
            report.wedged++;
            o.log?.(`wedged: response ${id} did not end within ${o.turnTimeoutMs} ms`);
          } else if (responseOf(done).status === 'completed') {
            const audio = client.events.find(
              (e) => e.type === 'response.output_audio_transcript.delta' && e.response_id === id,
            );
            if (audio) report.answerAudioMs.push(audio.at - clipEnd);
          }
        } else {
          report.wedged++;
          o.log?.(`wedged: no response within ${o.turnTimeoutMs} ms of a turn`);
        }
      }
      drain();
      // Keep the client's memory flat: the report holds what matters.
      client.events.splice(0, seen);
      seen = 0;
    }
    // Every response this session saw ended.
    const deadline = performance.now() + o.turnTimeoutMs;
    while ([...responses.values()].some((r) => !r.done) && performance.now() < deadline) {
      await sleep(100);
      drain();
    }
    const open = [...responses.values()].filter((r) => !r.done).length;
    if (open > 0) {
      report.wedged += open;
      o.log?.(`wedged: ${open} response(s) without response.done at the end`);
    }
  } finally {
    await client.close();
  }
}
