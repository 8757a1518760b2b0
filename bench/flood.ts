/**
 * HTTP flood benchmark (not a test): does HTTP work starve a live voice session? The server runs
 * on the real engines in its own process. First TURNS voice turns alone (real French commands
 * streamed at real-time pace over /v1/realtime), then the same turns while two 3-minute real
 * recordings (French commands end to end) are transcribed through /v1/audio/transcriptions, a
 * burst of 12 /tts requests arrives at once and two clients keep asking /tts. Reports the last
 * word → first answer audio alone and under the flood, and what the HTTP clients got (503
 * `engine_busy` past `engines.maxQueuedHttpJobs`, 429 past `http.requestsPerMinute`). Loopback
 * only, bounded: the /tts clients stop with the voice turns, then the transcriptions finish.
 * `npm run bench:flood [-- TURNS]` (default 6).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { float32ToInt16 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { encodeWav, readWav } from '../src/audio/wav.js';
import type { ServerEvent } from '../src/protocol/server-events.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { frenchCommands } from '../src/testing/testaudio.js';
import { fmt, machineLine, percentile } from './lib.js';
import { startServerProcess, waitReady } from './server-process.js';

const turns = Number(process.argv[2] ?? 6);
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};
out(`# bench:flood ${new Date().toISOString()}`);
out(await machineLine('llm auto, stt auto'));

/** French commands end to end with 0.4 s between them, until `sec` seconds: a long real recording. */
async function longRecording(sec: number): Promise<Buffer> {
  const parts: Float32Array[] = [];
  let total = 0;
  const gap = new Float32Array(6400);
  for (let i = 0; total < sec * 16000; i++) {
    const clip = frenchCommands()[i % frenchCommands().length]!;
    const wav = await readWav(clip.path);
    const samples = resample(wav.samples, wav.sampleRate, 16000);
    parts.push(samples, gap);
    total += samples.length + gap.length;
  }
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return encodeWav(float32ToInt16(all), 16000);
}

const server = await startServerProcess();
const ready = await waitReady<{ engines: Record<string, { engine: string; model: string }> }>(server.base);
out(
  `engines: ${Object.entries(ready.engines)
    .map(([stage, e]) => `${stage} ${e.engine} ${e.model}`)
    .join(', ')}`,
);
const wsUrl = `${server.base.replace('http', 'ws')}/v1/realtime`;
const clips = frenchCommands();

/** TURNS voice turns in one session: last word (the VAD's speech end) → first answer audio. */
async function voiceTurns(offset: number): Promise<{ ms: number[]; failed: number }> {
  const c = await RealtimeTestClient.connect(wsUrl);
  c.send({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 48 } });
  await c.waitFor('session.updated');
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < turns; i++) {
    const n = c.of('response.done').length + 1;
    await c.streamWav(clips[(offset + i) % clips.length]!.path, 1600);
    const done = await c.waitFor('response.done', { n, timeoutMs: 120_000 });
    const id = (done.response as { id: string; status: string }).id;
    const stopped = c.of('input_audio_buffer.speech_stopped').at(-1)!;
    const lastWord = c.sentAt(stopped.audio_end_ms as number);
    const answer = c.events.find(
      (e: ServerEvent & { at: number }) =>
        e.type === 'response.output_audio_transcript.delta' && e.response_id === id,
    );
    if (answer) ms.push(answer.at - lastWord);
    else failed++;
  }
  await c.close();
  return { ms, failed };
}

const alone = await voiceTurns(0);

const recording = await longRecording(180);
const statuses: Record<string, number> = {};
const count = (status: number) => (statuses[status] = (statuses[status] ?? 0) + 1);
const TEXT = 'Votre rendez-vous est confirmé pour demain à dix heures. Voulez-vous un rappel ?';
const tts = async () => {
  const res = await fetch(`${server.base}/tts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: TEXT }),
  });
  count(res.status);
  await res.arrayBuffer();
};
/** The upload through node:http: fetch gives up on response headers after 300 s. */
const transcribe = () =>
  new Promise<{ status: number; ms: number; words: number }>((resolve, reject) => {
    const boundary = `flood${Date.now()}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
      ),
      recording,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const t0 = performance.now();
    const req = request(`${server.base}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const words = ((JSON.parse(text) as { text?: string }).text ?? '')
          .split(/\s+/)
          .filter(Boolean).length;
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, words });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
// The flood lasts while the voice session talks; the transcriptions then finish on their own.
let flooding = true;
const transcriptions = Promise.all([transcribe(), transcribe()]);
await Promise.all(Array.from({ length: 12 }, tts));
const loops = Array.from({ length: 2 }, async () => {
  while (flooding) await tts();
});
const flood = await voiceTurns(turns);
flooding = false;
await Promise.all(loops);
const [t1, t2] = await transcriptions;
await server.stop();

const row = (name: string, values: number[]) =>
  `| ${name} | ${values.length} | ${fmt(percentile(values, 50))} ms | ${fmt(percentile(values, 95))} ms | ${fmt(Math.max(...values))} ms |`;
out('');
out('| last word → first answer audio | n | p50 | p95 | max |');
out('|---|---|---|---|---|');
out(row('voice turns alone', alone.ms));
out(row('the same turns during the HTTP flood', flood.ms));
out('');
out(
  `p50 ratio flood / alone: ${(percentile(flood.ms, 50) / percentile(alone.ms, 50)).toFixed(2)}; turns without answer audio: ${alone.failed} alone, ${flood.failed} during the flood.`,
);
out(
  `Two 3-minute transcriptions: ${[t1, t2].map((t) => `${t.status} in ${(t.ms / 1000).toFixed(1)} s (${t.words} words)`).join(', ')}; /tts answers: ${JSON.stringify(statuses)} (503 = engine_busy past engines.maxQueuedHttpJobs, 429 = past http.requestsPerMinute).`,
);
mkdirSync(new URL('reports', import.meta.url), { recursive: true });
writeFileSync(new URL('reports/flood.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);
