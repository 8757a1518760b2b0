import { float32ToInt16 } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';
import type { Config } from '../config.js';
import { int16ToPcm16 } from '../protocol/audio-format.js';
import { renderTurnDetection, type SessionSettings } from '../protocol/session-settings.js';
import { OPENAI_VOICES } from '../protocol/session-settings.js';
import type { Conversation } from '../session/conversation.js';
import type { TranscriptionJob } from '../session/response.js';
import { UPSTREAM_FORMAT } from './audio-bridge.js';

type Upstream = Config['fallback']['realtime'];
type Event = { type: string } & Record<string, unknown>;

/** Items replayed upstream at most: the newest ones (the local LLM is prompted with as many). */
const REPLAYED_ITEMS = 40;

/** The upstream voice: an OpenAI voice the client asked for, else the configured one. */
export function upstreamVoice(settings: SessionSettings, upstream: Upstream): string {
  return OPENAI_VOICES.has(settings.voice) ? settings.voice : upstream.voice;
}

/**
 * The session's settings as a `session.update` for the upstream: instructions, turn detection,
 * voice, output modalities and limits map over; audio is always PCM16 24 kHz upstream (the relay
 * converts the client's formats).
 */
export function upstreamSessionUpdate(settings: SessionSettings, upstream: Upstream): Event {
  const audioOut = settings.outputModalities.includes('audio');
  const transcription = {
    model: upstream.transcriptionModel,
    ...(settings.language !== 'auto' ? { language: settings.language } : {}),
  };
  // The onset events are this server's: the upstream does not know the field.
  const turnDetection = renderTurnDetection(
    settings.turnDetection && { ...settings.turnDetection, speechOnset: false },
  );
  const voice = upstreamVoice(settings, upstream);
  if (upstream.dialect === 'beta')
    return {
      type: 'session.update',
      session: {
        modalities: audioOut ? ['audio', 'text'] : ['text'],
        instructions: settings.instructions,
        voice,
        input_audio_format: 'pcm16',
        output_audio_format: 'pcm16',
        input_audio_transcription: transcription,
        turn_detection: turnDetection,
        max_response_output_tokens: settings.maxOutputTokens,
        ...(settings.temperature !== undefined ? { temperature: Math.max(0.6, settings.temperature) } : {}),
      },
    };
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      instructions: settings.instructions,
      output_modalities: audioOut ? ['audio'] : ['text'],
      max_output_tokens: settings.maxOutputTokens,
      audio: {
        input: { format: UPSTREAM_FORMAT, transcription, turn_detection: turnDetection },
        output: { format: UPSTREAM_FORMAT, voice, speed: settings.speed },
      },
    },
  };
}

/**
 * The conversation as `conversation.item.create` events, oldest first, under the same item ids:
 * items with text as text; user audio nobody transcribed (the turn STT failed on) as audio, so
 * the upstream hears it and the user does not repeat it.
 */
export function replayEvents(
  conversation: Conversation,
  untranscribed: TranscriptionJob[],
  dialect: Upstream['dialect'],
): Event[] {
  const audioOf = new Map(untranscribed.map((job) => [job.item.id, job.audio]));
  const events: Event[] = [];
  for (const item of conversation.all().slice(-REPLAYED_ITEMS)) {
    let content: object[] | undefined;
    const audio = audioOf.get(item.id);
    if (item.role === 'user' && audio && item.text === '') {
      const pcm = int16ToPcm16(float32ToInt16(resample(audio.samples, audio.sampleRate, 24000)));
      content = [{ type: 'input_audio', audio: Buffer.from(pcm).toString('base64') }];
    } else if (item.text.trim() !== '')
      content = [
        item.role === 'assistant'
          ? { type: dialect === 'ga' ? 'output_text' : 'text', text: item.text }
          : { type: 'input_text', text: item.text },
      ];
    if (content)
      events.push({
        type: 'conversation.item.create',
        item: { id: item.id, type: 'message', role: item.role, content },
      });
  }
  return events;
}
