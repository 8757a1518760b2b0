/**
 * The client half of `bench:turns --transport twilio`, in its own process: the same French
 * commands, one turn each, either as a Twilio call (8 kHz μ-law `media` at real-time pace, answer
 * played back as Twilio plays it, marks echoed) or over /v1/realtime as 16 kHz PCM16. Both are
 * timed the same way, on this process's clock: from the clip's last word (where Silero's last
 * speech frame ends on the original wideband recording) to the first answer audio received.
 * Usage (by bench/turns.ts): twilio|pcm16 URL TURNS.
 */
import { join } from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { SileroVad } from '../src/engines/vad/silero.js';
import { VadSegmenter } from '../src/engines/vad/segmenter.js';
import { silentLogger } from '../src/log.js';
import { RealtimeTestClient } from '../src/testing/realtime-client.js';
import { MODELS_DIR, frenchCommands } from '../src/testing/testaudio.js';
import { phoneAudio, TwilioTestClient } from '../src/testing/twilio-client.js';

export interface PhoneTurnMeasures {
  /** Clip's last word → first answer audio received, per turn. */
  firstAnswerAudio: number[];
  /** Turns that got no answer audio within the wait. */
  unanswered: number;
  /** The Twilio call's ids (the parent reads the stored conversation by them). */
  callSid?: string;
  /** Transcripts as the server sent them (pcm16; a Twilio call has none on the wire). */
  transcripts: string[];
}

const [mode, url, turnsArg = '12'] = process.argv.slice(2) as ['twilio' | 'pcm16', string, string?];
const turns = Number(turnsArg);
const clips = frenchCommands();
const log = (s: string) => process.stderr.write(`${s}\n`);
const vad = await SileroVad.load(join(MODELS_DIR, 'silero_vad.onnx'), 'silero_vad', {
  threads: 1,
  device: 'cpu',
  logger: silentLogger,
});

/** Where the clip's speech ends (ms): the end of Silero's last speech segment on the original. */
async function lastWordMs(path: string): Promise<number> {
  const wav = await readWav(path);
  const segmenter = new VadSegmenter(
    vad,
    { threshold: 0.5, minSpeechMs: 0, minSilenceMs: 300, prefixPaddingMs: 0 },
    wav.sampleRate,
  );
  const events = [
    ...(await segmenter.push(wav.samples)),
    ...(await segmenter.push(new Float32Array(wav.sampleRate))),
  ];
  const end = events.filter((e) => e.type === 'speech_end').at(-1);
  return end ? (end.endSample * 1000) / wav.sampleRate : (wav.samples.length * 1000) / wav.sampleRate;
}

const m: PhoneTurnMeasures = { firstAnswerAudio: [], unanswered: 0, transcripts: [] };
const SILENCE_MS = 1600;

if (mode === 'twilio') {
  const callSid = `CA${'0'.repeat(24)}${Date.now().toString(16).slice(-8)}`;
  m.callSid = callSid;
  const client = await TwilioTestClient.connect(url, {
    accountSid: `AC${'0'.repeat(31)}1`,
    callSid,
    streamSid: `MZ${callSid.slice(2)}`,
    customParameters: { From: '+33100000001', To: '+33100000002' },
  });
  client.start();
  for (let i = 0; i < turns; i++) {
    const clip = clips[i % clips.length]!;
    const end = await lastWordMs(clip.path);
    const audio = await phoneAudio(clip.path, SILENCE_MS);
    const before = client.of('media').length;
    const sentAt = performance.now();
    await client.streamMulaw(audio);
    // The answer, played out in full (no media for 800 ms and nothing left to play).
    try {
      await client.until(() => client.of('media').length > before, 'answer audio', 60_000);
    } catch {
      m.unanswered++;
      log(`turn ${i + 1}/${turns} ${clip.file}: no answer`);
      continue;
    }
    const first = client.of('media')[before]!.at;
    m.firstAnswerAudio.push(first - (sentAt + end));
    for (let n = -1; n !== client.of('media').length || client.playedBytes < client.receivedBytes;) {
      n = client.of('media').length;
      await new Promise((r) => setTimeout(r, 800));
    }
    log(
      `turn ${i + 1}/${turns} ${clip.file}: last word → answer audio ${m.firstAnswerAudio.at(-1)!.toFixed(0)} ms`,
    );
  }
  client.stop();
  await client.until(() => client.closed !== undefined, 'the end of the call', 10_000);
} else {
  const client = await RealtimeTestClient.connect(url);
  client.send({
    type: 'session.update',
    session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } },
  });
  await client.waitFor('session.updated');
  for (let i = 0; i < turns; i++) {
    const clip = clips[i % clips.length]!;
    const end = await lastWordMs(clip.path);
    const n = client.of('response.done').length + 1;
    const sentAt = performance.now();
    await client.streamWav(clip.path, SILENCE_MS, undefined, 1, 16000);
    const done = await client.waitFor('response.done', { n, timeoutMs: 120_000 });
    const response = (done as unknown as { response: { id: string } }).response.id;
    const first = client.events.find(
      (e) => e.type === 'response.output_audio.delta' && e.response_id === response,
    );
    const transcript = client.of('conversation.item.input_audio_transcription.completed').at(-1);
    m.transcripts.push((transcript?.transcript as string | undefined) ?? '');
    if (!first) {
      m.unanswered++;
      continue;
    }
    m.firstAnswerAudio.push(first.at - (sentAt + end));
    log(
      `turn ${i + 1}/${turns} ${clip.file}: last word → answer audio ${m.firstAnswerAudio.at(-1)!.toFixed(0)} ms`,
    );
  }
  await client.close();
}
await vad.close();
process.send!(m);
process.disconnect();
