/**
 * The voice page: the microphone streamed to the real-time WebSocket (PCM16 24 kHz), the answer
 * played as it comes, barge-in (playback stops at `speech_started` and the assistant item is
 * truncated to what was heard), live transcripts, per-turn latency, reconnection with backoff
 * to the same stored conversation.
 */
const RATE = 24000;

const fr = {
  title: 'Assistant vocal',
  idle: 'Prêt',
  start: 'Démarrer',
  stop: 'Arrêter',
  settings: 'Réglages',
  voice: 'Voix',
  language: 'Langue',
  turns: 'Fin de tour',
  eagerness: 'Réactivité',
  fillers: 'Mots d’attente',
  token: 'Jeton (JWT)',
  send: 'Envoyer',
  connecting: 'Connexion…',
  listening: 'À l’écoute',
  reconnecting: 'Reconnexion…',
  heard: 'premier son entendu',
  answer: 'réponse (serveur)',
  after: 'après la fin de la parole',
  micDenied: 'Micro refusé',
};
const en: typeof fr = {
  title: 'Voice assistant',
  idle: 'Ready',
  start: 'Start',
  stop: 'Stop',
  settings: 'Settings',
  voice: 'Voice',
  language: 'Language',
  turns: 'End of turn',
  eagerness: 'Eagerness',
  fillers: 'Fillers',
  token: 'Token (JWT)',
  send: 'Send',
  connecting: 'Connecting…',
  listening: 'Listening',
  reconnecting: 'Reconnecting…',
  heard: 'first audio heard',
  answer: 'answer (server)',
  after: 'after the end of speech',
  micDenied: 'Microphone refused',
};
const t = navigator.language.startsWith('fr') ? fr : en;
document.documentElement.lang = t === fr ? 'fr' : 'en';
for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]'))
  el.textContent = t[el.dataset.i18n as keyof typeof fr] ?? el.textContent;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const startButton = $<HTMLButtonElement>('start');
const stateEl = $('state');
const level = $<HTMLMeterElement>('level');
const latencyEl = $('latency');
const log = $('log');
const params = new URLSearchParams(location.search);
if (params.get('token')) $<HTMLInputElement>('token').value = params.get('token')!;
$<HTMLSelectElement>('language').value = params.get('language') ?? (t === fr ? 'fr' : 'en');

/**
 * What the end-to-end tests read. Times are on the AudioContext's clock, in seconds: when the
 * microphone's level rose after a quiet moment (`micOnsets`), and when answer audio went silent
 * because the user spoke (`silencedAt`: a pause at the voice onset or a stop at speech_started).
 */
const stats = {
  framesPlayed: 0,
  audioDeltas: 0,
  truncations: 0,
  lastTruncateMs: -1,
  truncatedItem: '',
  pauses: 0,
  resumes: 0,
  micOnsets: [] as number[],
  silencedAt: [] as number[],
  sessionId: '',
  connections: 0,
};
(window as unknown as { voiceStats: typeof stats }).voiceStats = stats;

let running = false;
let socket: WebSocket | undefined;
let audio: { ctx: AudioContext; stream: MediaStream; playback: AudioWorkletNode } | undefined;
let sessionId: string | undefined;
let backoffMs = 500;
let speechEndedAt: number | undefined;
/** The assistant item being played, and which items' audio the user has started to hear. */
let playingItem: string | undefined;
/** Items the user interrupted: audio of theirs still in flight is not played. */
const interrupted = new Set<string>();
/** Playback paused at a voice onset resumes by itself after this if the server says nothing. */
const ONSET_RESUME_MS = 1000;
let onsetTimer: ReturnType<typeof setTimeout> | undefined;
/** The microphone's level: quiet samples in a row, for onsets. */
const ONSET_LEVEL = 0.2;
let quietSamples = 0;
const lines = new Map<string, HTMLLIElement>();

function setState(text: string) {
  stateEl.textContent = text;
}

function line(id: string, role: 'user' | 'assistant' | 'error'): HTMLLIElement {
  let li = lines.get(id);
  if (!li) {
    li = document.createElement('li');
    li.className = role;
    li.dataset.role = role;
    lines.set(id, li);
    log.append(li);
  }
  return li;
}

function send(event: object) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(event));
}

/** Linear resampling, streamed: enough for speech into a 24 kHz recognizer. */
function resampler(from: number, to: number) {
  let pos = 0;
  let last = 0;
  return (input: Float32Array): Float32Array => {
    const step = from / to;
    const out: number[] = [];
    while (pos < input.length) {
      const i = Math.floor(pos);
      const frac = pos - i;
      const a = i === 0 ? last : input[i - 1]!;
      const b = input[i]!;
      out.push(a + (b - a) * frac);
      pos += step;
    }
    pos -= input.length;
    last = input[input.length - 1] ?? last;
    return Float32Array.from(out);
  };
}

function toBase64Pcm16(samples: Float32Array): string {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++)
    view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), true);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64Pcm16(b64: string): Float32Array {
  const bin = atob(b64);
  const out = new Float32Array(bin.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    out[i] = (v >= 0x8000 ? v - 0x10000 : v) / 32768;
  }
  return out;
}

async function startAudio() {
  const ctx = new AudioContext({ latencyHint: 'interactive' });
  await ctx.resume(); // on the click: pages where autoplay is restricted
  await ctx.audioWorklet.addModule('/app/capture-worklet.js');
  await ctx.audioWorklet.addModule('/app/playback-worklet.js');
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  const capture = new AudioWorkletNode(ctx, 'capture');
  ctx.createMediaStreamSource(stream).connect(capture);
  const toWire = resampler(ctx.sampleRate, RATE);
  capture.port.onmessage = (e: MessageEvent<{ samples: Float32Array; time: number }>) => {
    const { samples, time } = e.data;
    let sum = 0;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      sum += v * v;
      if (Math.abs(v) < ONSET_LEVEL) quietSamples++;
      else {
        if (quietSamples > ctx.sampleRate * 0.3) stats.micOnsets.push(time + i / ctx.sampleRate);
        quietSamples = 0;
      }
    }
    level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    send({ type: 'input_audio_buffer.append', audio: toBase64Pcm16(toWire(samples)) });
  };
  const playback = new AudioWorkletNode(ctx, 'playback', { outputChannelCount: [1] });
  playback.connect(ctx.destination);
  playback.port.onmessage = (
    e: MessageEvent<{ type: string; itemId?: string; playedMs?: number; time?: number }>,
  ) => {
    const m = e.data;
    if (m.time !== undefined) stats.silencedAt.push(m.time);
    if (m.type === 'started' && speechEndedAt !== undefined) {
      const ms = Math.round(performance.now() - speechEndedAt);
      latencyEl.dataset.heardMs = String(ms);
      latencyEl.textContent = `${t.heard}: ${ms} ms ${t.after}`;
      speechEndedAt = undefined;
    } else if (m.type === 'cleared' && m.itemId) {
      stats.truncations++;
      stats.lastTruncateMs = m.playedMs ?? 0;
      stats.truncatedItem = m.itemId;
      send({
        type: 'conversation.item.truncate',
        item_id: m.itemId,
        content_index: 0,
        audio_end_ms: m.playedMs,
      });
    }
  };
  audio = { ctx, stream, playback };
}

function playAudio(itemId: string, b64: string) {
  if (!audio || interrupted.has(itemId)) return;
  const samples = resampler(RATE, audio.ctx.sampleRate)(fromBase64Pcm16(b64));
  stats.audioDeltas++;
  stats.framesPlayed += samples.length;
  playingItem = itemId;
  audio.playback.port.postMessage({ type: 'audio', itemId, samples }, [samples.buffer]);
}

function connect() {
  const token = $<HTMLInputElement>('token').value.trim();
  const url = new URL('/v1/realtime', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (sessionId) url.searchParams.set('session_id', sessionId);
  const protocols = ['realtime', ...(token ? [`bearer.${token}`] : [])];
  setState(t.connecting);
  const ws = new WebSocket(url, protocols);
  socket = ws;
  ws.onopen = () => {
    backoffMs = 500;
    stats.connections++;
    setState(t.listening);
    sendSettings();
  };
  ws.onmessage = (e: MessageEvent<string>) => onEvent(JSON.parse(e.data) as ServerEvent);
  ws.onclose = () => {
    if (socket !== ws || !running) return;
    setState(t.reconnecting);
    setTimeout(() => running && connect(), backoffMs);
    backoffMs = Math.min(10_000, backoffMs * 2);
  };
}

/** The settings of the form, as a `session.update` (on connect, and when one changes). */
function sendSettings() {
  const voice = $<HTMLInputElement>('voice').value.trim();
  send({
    type: 'session.update',
    session: {
      type: 'realtime',
      x_fillers: $<HTMLInputElement>('fillers').checked,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: RATE },
          transcription: { language: $<HTMLSelectElement>('language').value },
          turn_detection: {
            type: $<HTMLSelectElement>('turn').value,
            // Playback pauses at the first sound of the user's voice, not 250 ms later.
            x_speech_onset: true,
            ...($<HTMLSelectElement>('turn').value === 'semantic_vad'
              ? { eagerness: $<HTMLSelectElement>('eagerness').value }
              : {}),
          },
        },
        output: { format: { type: 'audio/pcm', rate: RATE }, ...(voice ? { voice } : {}) },
      },
    },
  });
}
for (const id of ['voice', 'language', 'turn', 'eagerness', 'fillers'])
  $(id).addEventListener('change', sendSettings);

type ServerEvent = { type: string; [k: string]: unknown };

/** A voice onset that did not become speech: the answer goes on where it paused. */
function resumePlayback() {
  if (onsetTimer === undefined) return;
  clearTimeout(onsetTimer);
  onsetTimer = undefined;
  stats.resumes++;
  audio?.playback.port.postMessage({ type: 'resume' });
}

function onEvent(e: ServerEvent) {
  switch (e.type) {
    case 'session.created':
      sessionId = (e.session as { id: string }).id;
      stats.sessionId = sessionId;
      break;
    case 'input_audio_buffer.x_speech_onset':
      // The user may be starting to speak: silence the answer now, keep it.
      if (playingItem) {
        stats.pauses++;
        audio?.playback.port.postMessage({ type: 'pause' });
        clearTimeout(onsetTimer);
        onsetTimer = setTimeout(resumePlayback, ONSET_RESUME_MS);
      }
      break;
    case 'input_audio_buffer.x_speech_onset_dropped':
      resumePlayback();
      break;
    case 'input_audio_buffer.speech_started':
      // Barge-in: the answer stops now; the worklet says how much of it was heard.
      clearTimeout(onsetTimer);
      onsetTimer = undefined;
      if (playingItem) {
        interrupted.add(playingItem);
        audio?.playback.port.postMessage({ type: 'clear' });
      }
      playingItem = undefined;
      break;
    case 'input_audio_buffer.speech_stopped':
      speechEndedAt = performance.now();
      break;
    case 'conversation.item.input_audio_transcription.delta': {
      const li = line(String(e.item_id), 'user');
      li.textContent = (li.textContent ?? '') + String(e.delta);
      break;
    }
    case 'conversation.item.input_audio_transcription.completed':
      line(String(e.item_id), 'user').textContent = String(e.transcript);
      break;
    case 'response.output_audio_transcript.delta':
    case 'response.output_text.delta': {
      const li = line(String(e.item_id), 'assistant');
      li.textContent = (li.textContent ?? '') + String(e.delta);
      break;
    }
    case 'response.output_audio.delta':
      playAudio(String(e.item_id), String(e.delta));
      break;
    case 'response.done': {
      if (playingItem && (e.response as { status?: string }).status !== 'completed') playingItem = undefined;
      const marks = (e.response as { x_timings?: { marks?: Record<string, number> } }).x_timings?.marks;
      if (marks?.first_answer_audio_sent !== undefined) {
        latencyEl.dataset.answerMs = String(Math.round(marks.first_answer_audio_sent));
        latencyEl.textContent = `${latencyEl.textContent ?? ''} · ${t.answer}: ${Math.round(marks.first_answer_audio_sent)} ms`;
      }
      break;
    }
    case 'error':
      line(`error-${Date.now()}`, 'error').textContent = (e.error as { message: string }).message;
      break;
  }
}

async function start() {
  running = true;
  startButton.textContent = t.stop;
  try {
    await startAudio();
  } catch {
    setState(t.micDenied);
    stop();
    return;
  }
  connect();
}

function stop() {
  running = false;
  startButton.textContent = t.start;
  socket?.close();
  socket = undefined;
  audio?.stream.getTracks().forEach((track) => track.stop());
  void audio?.ctx.close();
  audio = undefined;
  setState(t.idle);
}

startButton.addEventListener('click', () => (running ? stop() : void start()));
$<HTMLFormElement>('typed').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('text');
  const text = input.value.trim();
  if (!text || socket?.readyState !== WebSocket.OPEN) return;
  send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  send({ type: 'response.create' });
  line(`typed-${Date.now()}`, 'user').textContent = text;
  input.value = '';
});
