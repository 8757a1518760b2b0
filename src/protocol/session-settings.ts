import type { Config } from '../config.js';
import { betaFormatName, parseWireFormat, type WireAudioFormat } from './audio-format.js';
import { ClientEventError, type SessionPatch } from './client-events.js';
import type { Dialect } from './server-events.js';

export type Eagerness = 'low' | 'medium' | 'high' | 'auto';

/**
 * How turns end: `server_vad` after `silenceDurationMs` of silence; `semantic_vad` when the
 * end-of-turn model and the transcript agree, or after the eagerness' longest silence.
 */
export interface TurnDetection {
  type: 'server_vad' | 'semantic_vad';
  eagerness: Eagerness;
  /** VAD speech threshold (both types). */
  threshold: number;
  prefixPaddingMs: number;
  silenceDurationMs: number;
  createResponse: boolean;
  interruptResponse: boolean;
  /**
   * `x_speech_onset`: while a response plays, say when the VAD first hears voice (before it is
   * long enough to be speech) and when that voice died out, so that the client can pause playback
   * at once and resume it on a false alarm.
   */
  speechOnset: boolean;
}

/** What a session runs with; `session.update` patches it. */
export interface SessionSettings {
  instructions: string;
  voice: string;
  /** Spoken language for STT (`auto` detects) and fillers. */
  language: string;
  outputModalities: ('audio' | 'text')[];
  inputFormat: WireAudioFormat;
  outputFormat: WireAudioFormat;
  /** null: manual turns, the client commits the input buffer. */
  turnDetection: TurnDetection | null;
  speed: number;
  maxOutputTokens: number | 'inf';
  temperature: number | undefined;
  binaryAudio: boolean;
  /** `x_fillers: false`: no fillers in this session; undefined or true: as the server says. */
  fillers?: boolean | undefined;
  /** The client's fallback policy (`x_fallback_policy`): narrows the server's; undefined = the server's. */
  fallbackPolicy?: FallbackPolicyName[] | undefined;
}

export type FallbackPolicyName = 'unready' | 'error' | 'overflow' | 'always' | 'never';

/** OpenAI's voice names: clients send them by default; they select the server's default voice. */
export const OPENAI_VOICES = new Set([
  'alloy',
  'ash',
  'ballad',
  'coral',
  'echo',
  'sage',
  'shimmer',
  'verse',
  'marin',
  'cedar',
]);

/**
 * The session defaults. `semanticAvailable` is false when the end-of-turn model did not load:
 * sessions then run (and say they run) `server_vad`.
 */
export function defaultSettings(
  config: Config,
  defaultVoice: string,
  semanticAvailable = true,
): SessionSettings {
  return {
    instructions: config.realtime.instructions,
    voice: defaultVoice,
    language: config.stt.language,
    outputModalities: ['audio'],
    inputFormat: { type: 'audio/pcm', rate: 24000 },
    outputFormat: { type: 'audio/pcm', rate: 24000 },
    turnDetection: {
      type: semanticAvailable ? config.turns.detection : 'server_vad',
      eagerness: config.turns.eagerness,
      threshold: config.vad.threshold,
      prefixPaddingMs: config.vad.prefixPaddingMs,
      silenceDurationMs: config.vad.minSilenceMs,
      createResponse: true,
      interruptResponse: true,
      speechOnset: false,
    },
    speed: 1,
    maxOutputTokens: 'inf',
    temperature: undefined,
    binaryAudio: false,
  };
}

function format(value: unknown, param: string): WireAudioFormat {
  try {
    return parseWireFormat(value);
  } catch (err) {
    throw new ClientEventError('unsupported_audio_format', (err as Error).message, undefined, param);
  }
}

/**
 * Applies a `session.update` (GA or beta shape) to the settings; validates everything before
 * changing anything, so a rejected update leaves the session as it was.
 */
export function applySessionPatch(
  current: SessionSettings,
  patch: SessionPatch,
  voices: { has(id: string): boolean; default: string },
  defaultTurnDetection: TurnDetection,
  semanticAvailable = true,
): SessionSettings {
  const next: SessionSettings = { ...current };
  const input = patch.audio?.input;
  const output = patch.audio?.output;
  if (patch.instructions !== undefined) next.instructions = patch.instructions;
  const modalities = patch.output_modalities ?? patch.modalities;
  if (modalities) next.outputModalities = [...new Set(modalities)];
  const inFormat = input?.format ?? patch.input_audio_format;
  if (inFormat !== undefined) next.inputFormat = format(inFormat, 'session.audio.input.format');
  const outFormat = output?.format ?? patch.output_audio_format;
  if (outFormat !== undefined) next.outputFormat = format(outFormat, 'session.audio.output.format');
  const transcription = input?.transcription ?? patch.input_audio_transcription;
  const language = transcription?.language;
  if (language !== undefined) {
    if (!/^(auto|[a-z]{2,3})$/.test(language))
      throw new ClientEventError(
        'invalid_event',
        `language "${language}" is not an ISO 639-1 code or "auto"`,
        undefined,
        'session.audio.input.transcription.language',
      );
    next.language = language;
  }
  const voice = output?.voice ?? patch.voice;
  if (voice !== undefined) {
    if (voices.has(voice)) next.voice = voice;
    else if (OPENAI_VOICES.has(voice)) next.voice = voices.default;
    else
      throw new ClientEventError(
        'invalid_event',
        `voice "${voice.slice(0, 80)}" is not loaded on this server`,
        undefined,
        'session.audio.output.voice',
      );
  }
  const speed = output?.speed ?? patch.speed;
  if (speed !== undefined) next.speed = speed;
  const maxTokens = patch.max_output_tokens ?? patch.max_response_output_tokens;
  if (maxTokens !== undefined) next.maxOutputTokens = maxTokens;
  if (patch.temperature !== undefined) next.temperature = patch.temperature;
  if (patch.binary_audio !== undefined) next.binaryAudio = patch.binary_audio;
  if (patch.x_fallback_policy !== undefined) next.fallbackPolicy = patch.x_fallback_policy;
  if (patch.x_fillers !== undefined) next.fillers = patch.x_fillers;
  const td = input?.turn_detection !== undefined ? input.turn_detection : patch.turn_detection;
  if (td === null) next.turnDetection = null;
  else if (td !== undefined) {
    const base = current.turnDetection ?? defaultTurnDetection;
    const type = td.type ?? base.type;
    next.turnDetection = {
      type: type === 'semantic_vad' && !semanticAvailable ? 'server_vad' : type,
      eagerness: td.eagerness ?? base.eagerness,
      threshold: td.threshold ?? base.threshold,
      prefixPaddingMs: td.prefix_padding_ms ?? base.prefixPaddingMs,
      silenceDurationMs: td.silence_duration_ms ?? base.silenceDurationMs,
      createResponse: td.create_response ?? base.createResponse,
      interruptResponse: td.interrupt_response ?? base.interruptResponse,
      speechOnset: td.x_speech_onset ?? base.speechOnset,
    };
  }
  return next;
}

export function renderTurnDetection(td: TurnDetection | null) {
  if (!td) return null;
  const common = {
    create_response: td.createResponse,
    interrupt_response: td.interruptResponse,
    ...(td.speechOnset ? { x_speech_onset: true } : {}),
  };
  if (td.type === 'semantic_vad') return { type: td.type, eagerness: td.eagerness, ...common };
  return {
    type: td.type,
    threshold: td.threshold,
    prefix_padding_ms: td.prefixPaddingMs,
    silence_duration_ms: td.silenceDurationMs,
    ...common,
  };
}

/** The session object of `session.created` / `session.updated`, in the client's dialect. */
export function renderSession(id: string, model: string, s: SessionSettings, dialect: Dialect) {
  const transcription = { model: 'whisper', language: s.language };
  if (dialect === 'beta')
    return {
      id,
      object: 'realtime.session',
      model,
      modalities: s.outputModalities,
      instructions: s.instructions,
      voice: s.voice,
      input_audio_format: betaFormatName(s.inputFormat),
      output_audio_format: betaFormatName(s.outputFormat),
      input_audio_transcription: transcription,
      turn_detection: renderTurnDetection(s.turnDetection),
      speed: s.speed,
      max_response_output_tokens: s.maxOutputTokens,
      binary_audio: s.binaryAudio,
      ...(s.fillers !== undefined ? { x_fillers: s.fillers } : {}),
    };
  return {
    type: 'realtime',
    id,
    object: 'realtime.session',
    model,
    output_modalities: s.outputModalities,
    instructions: s.instructions,
    audio: {
      input: { format: s.inputFormat, transcription, turn_detection: renderTurnDetection(s.turnDetection) },
      output: { format: s.outputFormat, voice: s.voice, speed: s.speed },
    },
    max_output_tokens: s.maxOutputTokens,
    binary_audio: s.binaryAudio,
    ...(s.fillers !== undefined ? { x_fillers: s.fillers } : {}),
  };
}
