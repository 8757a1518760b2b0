/**
 * The client half of `bench:turns`, in its own process so that its clock and its socket reads are
 * not held up by the server's work: streams the French commands at real-time pace, then the
 * spliced mid-sentence pauses of bench/data/pauses.tsv, then barge-ins, and sends the measures
 * back to the parent. Usage (by bench/turns.ts): URL TURNS BARGE_INS PAUSES.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { resample } from '../src/audio/resample.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { TESTAUDIO_DIR, frenchCommands } from '../src/testing/testaudio.js';
import { cadence } from './triade/cadence.js';

export interface PauseCase {
  file: string;
  before: string;
  pauseMs: number;
  held: boolean;
  transcripts: string[];
}

export interface TurnMeasures {
  /** x_timings marks of each completed turn, ms after the turn ended, on the server's clock. */
  marks: Record<string, number>[];
  /** Client clock, ms after the user's last word (the VAD's speech end, as sent) to each event. */
  lastWordTo: { committed: number[]; transcript: number[]; firstAudio: number[]; firstAnswerAudio: number[] };
  /** input_audio_buffer.committed → first audio delta (the filler), client clock. */
  commitToFirstAudio: number[];
  /** Speech start sent → first transcription delta, for utterances longer than 2 s. */
  firstPartial: number[];
  /** Utterances longer than 2 s, and how many of them had a delta before their speech_stopped. */
  longUtterances: number;
  partialBeforeStop: number;
  /** Each turn's reference and final transcript (the WER of what the partials add up to). */
  transcripts: { reference: string; hypothesis: string }[];
  /** Speech onset sent → last audio delta of the interrupted answer received, per barge-in. */
  reactions: number[];
  /** Speech onset sent → `x_speech_onset` received (where a client pauses playback), per barge-in. */
  onsetReactions: number[];
  /** Per completed turn: answer audio chunks that came after playback had run dry (bench/triade/cadence.ts). */
  underruns: number[];
  /** Per turn with a filler: silence between the filler's end and the first answer audio, ms. */
  fillerGaps: number[];
  /** Barge-ins that found the answer already over, so nothing was interrupted. */
  missedBargeIns: number;
  pauses: PauseCase[];
  turnDetection: string;
}

type Done = { response: { id: string; status: string; x_timings: { marks: Record<string, number> } } };
const [url, turnsArg = '12', bargeInsArg = '6', pausesArg = '15'] = process.argv.slice(2);
const turns = Number(turnsArg);
const bargeIns = Number(bargeInsArg);
const clips = frenchCommands();
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Short answers keep the benchmark about latency, not about listening to whole answers. */
async function session(): Promise<{
  client: RealtimeTestClient;
  prefixPaddingMs: number;
  type: string;
  rate: number;
}> {
  const client = await RealtimeTestClient.connect(url!);
  client.send({
    type: 'session.update',
    session: {
      type: 'realtime',
      max_output_tokens: 48,
      audio: { input: { turn_detection: { x_speech_onset: true } } },
    },
  });
  const updated = await client.waitFor('session.updated');
  const { audio } = updated.session as {
    audio: {
      input: { turn_detection: { type: string; prefix_padding_ms?: number } };
      output: { format: { rate?: number } };
    };
  };
  const td = audio.input.turn_detection;
  return {
    client,
    prefixPaddingMs: td.prefix_padding_ms ?? 300,
    type: td.type,
    rate: audio.output.format.rate ?? 24000,
  };
}

const m: TurnMeasures = {
  marks: [],
  lastWordTo: { committed: [], transcript: [], firstAudio: [], firstAnswerAudio: [] },
  commitToFirstAudio: [],
  firstPartial: [],
  longUtterances: 0,
  partialBeforeStop: 0,
  transcripts: [],
  underruns: [],
  fillerGaps: [],
  reactions: [],
  onsetReactions: [],
  missedBargeIns: 0,
  pauses: [],
  turnDetection: '',
};
const first = await session();
let { client: c, prefixPaddingMs } = first;
m.turnDetection = first.type;
for (let i = 0; i < turns; i++) {
  const clip = clips[i % clips.length]!;
  const n = c.of('response.done').length + 1;
  const startedAt = performance.now();
  await c.streamWav(clip.path, 1600);
  const done = (await c.waitFor('response.done', { n, timeoutMs: 120_000 })) as unknown as Done;
  const stopped = c.of('input_audio_buffer.speech_stopped').at(-1)!;
  const lastWord = c.sentAt(stopped.audio_end_ms as number);
  const committed = c.of('input_audio_buffer.committed').at(-1)!;
  const transcript = c.of('conversation.item.input_audio_transcription.completed').at(-1);
  const partial = c.events.find(
    (e) => e.type === 'conversation.item.input_audio_transcription.delta' && e.at >= startedAt,
  );
  const mine = c.events.filter((e) => e.response_id === done.response.id);
  const firstAudio = mine.find((e) => e.type === 'response.output_audio.delta');
  const firstAnswer = mine.find((e) => e.type === 'response.output_audio_transcript.delta');
  if (done.response.status === 'completed') {
    m.marks.push(done.response.x_timings.marks);
    const played = cadence(c.events, done.response.id, first.rate);
    m.underruns.push(played.underruns);
    if (played.fillerGapMs !== undefined) m.fillerGaps.push(played.fillerGapMs);
  }
  m.lastWordTo.committed.push(committed.at - lastWord);
  if (transcript) m.lastWordTo.transcript.push(transcript.at - lastWord);
  if (firstAudio) {
    m.lastWordTo.firstAudio.push(firstAudio.at - lastWord);
    m.commitToFirstAudio.push(firstAudio.at - committed.at);
  }
  if (firstAnswer) m.lastWordTo.firstAnswerAudio.push(firstAnswer.at - lastWord);
  const started = c.of('input_audio_buffer.speech_started').at(-1)!;
  const speechSec = ((stopped.audio_end_ms as number) - (started.audio_start_ms as number)) / 1000;
  if (partial && speechSec > 2) {
    m.longUtterances++;
    if (partial.at < stopped.at) m.partialBeforeStop++;
    m.firstPartial.push(partial.at - c.sentAt((started.audio_start_ms as number) + prefixPaddingMs));
  }
  m.transcripts.push({
    reference: clip.transcript,
    hypothesis: (transcript?.transcript as string | undefined) ?? '',
  });
  log(
    `turn ${i + 1}/${turns} ${clip.file}: ${done.response.status}, last word → committed ${(committed.at - lastWord).toFixed(0)} ms, → answer audio ${firstAnswer ? (firstAnswer.at - lastWord).toFixed(0) : '-'} ms; "${(transcript?.transcript as string | undefined) ?? ''}"`,
  );
}
await c.close();

/** The spliced pauses: one session each; held = the whole sentence was one committed turn. */
const pauseFile = new URL('./data/pauses.tsv', import.meta.url);
if (Number(pausesArg) > 0 && !existsSync(pauseFile))
  log('bench/data/pauses.tsv is missing (make it with bench/pause-set-propose.ts): no pauses measured');
const pauseText = Number(pausesArg) > 0 && existsSync(pauseFile) ? readFileSync(pauseFile, 'utf8') : '';
const pauseLines = pauseText
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .slice(0, Number(pausesArg));
for (const line of pauseLines) {
  const [file, cutSec, before, , pauseMs] = line.split('\t') as [string, string, string, string, string];
  const wav = await readWav(join(TESTAUDIO_DIR, file));
  const audio = resample(wav.samples, wav.sampleRate, 24000);
  const spliced = splice(audio, 24000, Number(cutSec), Number(pauseMs));
  const s = await session();
  const tail = new Float32Array(24000 * 2);
  const all = new Float32Array(spliced.length + tail.length);
  all.set(spliced);
  await s.client.streamPcm(all);
  await new Promise((r) => setTimeout(r, 1500));
  const committed = s.client.of('input_audio_buffer.committed').length;
  const transcripts = s.client
    .of('conversation.item.input_audio_transcription.completed')
    .map((e) => String(e.transcript));
  m.pauses.push({ file, before, pauseMs: Number(pauseMs), held: committed === 1, transcripts });
  log(
    `pause ${m.pauses.length}/${pauseLines.length} "${before} |${pauseMs} ms| …": ${committed} turn(s) ${JSON.stringify(transcripts)}`,
  );
  await s.client.close();
}

({ client: c, prefixPaddingMs } = await session());
for (let i = 0; i < bargeIns; i++) {
  const n = c.of('response.done').length + 1;
  // Counted before streaming: with a fast answer the delta can arrive before the stream ends.
  const deltas = c.of('response.output_audio_transcript.delta').length;
  await c.streamWav(clips[i % clips.length]!.path, 1600);
  const answering = await c.waitFor('response.output_audio_transcript.delta', {
    n: deltas + 1,
    timeoutMs: 120_000,
  });
  const starts = c.of('input_audio_buffer.speech_started').length;
  const onsets = c.of('input_audio_buffer.x_speech_onset').length;
  await c.streamWav(clips[(i + 7) % clips.length]!.path, 1600);
  const done = (await c.waitFor('response.done', { n, timeoutMs: 120_000 })) as unknown as Done;
  const started = c.of('input_audio_buffer.speech_started')[starts];
  await c.waitFor('response.done', { n: n + 1, timeoutMs: 120_000 });
  if (done.response.status !== 'cancelled' || !started) {
    m.missedBargeIns++;
    log(`barge-in ${i + 1}/${bargeIns}: the answer ended before the interruption (${done.response.status})`);
  } else {
    const lastAudio = c.events
      .filter((e) => e.type === 'response.output_audio.delta' && e.response_id === answering.response_id)
      .at(-1)!;
    // audio_start_ms includes the prefix padding; the speech itself began that much later.
    const onset = (started.audio_start_ms as number) + prefixPaddingMs;
    m.reactions.push(lastAudio.at - c.sentAt(onset));
    const heard = c.of('input_audio_buffer.x_speech_onset')[onsets];
    if (heard) m.onsetReactions.push(heard.at - c.sentAt(heard.audio_start_ms as number));
    log(
      `barge-in ${i + 1}/${bargeIns}: ${m.reactions.at(-1)!.toFixed(0)} ms (x_speech_onset ${heard ? `${(heard.at - c.sentAt(heard.audio_start_ms as number)).toFixed(0)} ms` : 'none'})`,
    );
  }
  await c.close();
  ({ client: c, prefixPaddingMs } = await session());
}
await c.close();
process.send!(m);
process.disconnect();

/** `pauseMs` of the recording's own room tone (its first 100 ms, repeated) at `cutSec`, 10 ms fades. */
function splice(audio: Float32Array, rate: number, cutSec: number, pauseMs: number): Float32Array {
  const cut = Math.round(cutSec * rate);
  const fade = Math.round(rate / 100);
  const room = audio.subarray(0, Math.round(rate / 10));
  const pause = Math.round((pauseMs * rate) / 1000);
  const out = new Float32Array(audio.length + pause);
  out.set(audio.subarray(0, cut));
  for (let i = 0; i < fade; i++) {
    out[cut - fade + i]! *= 1 - i / fade;
    out[cut + pause + i] = audio[cut + i]! * (i / fade);
  }
  for (let i = 0; i < pause; i++) out[cut + i] = room[i % room.length]!;
  out.set(audio.subarray(cut + fade), cut + pause + fade);
  return out;
}
