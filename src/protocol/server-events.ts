import { randomUUID } from 'node:crypto';

/** A server event as sent: `type`, a unique `event_id`, and the event's fields. */
export type ServerEvent = { type: string; event_id: string } & Record<string, unknown>;

/** Which names the client speaks: the GA protocol, or the beta one (`OpenAI-Beta: realtime=v1`). */
export type Dialect = 'ga' | 'beta';

/** Server events whose beta name differs from the GA name. */
const BETA_NAMES: Record<string, string> = {
  'response.output_audio.delta': 'response.audio.delta',
  'response.output_audio.done': 'response.audio.done',
  'response.output_audio_transcript.delta': 'response.audio_transcript.delta',
  'response.output_audio_transcript.done': 'response.audio_transcript.done',
  'response.output_text.delta': 'response.text.delta',
  'response.output_text.done': 'response.text.done',
};

export function eventName(type: string, dialect: Dialect): string {
  return dialect === 'beta' ? (BETA_NAMES[type] ?? type) : type;
}

/** Ids in OpenAI's style: a prefix and 20 random characters. */
export function newId(prefix: 'event' | 'item' | 'resp' | 'sess'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

export function serverEvent(type: string, fields: Record<string, unknown> = {}): ServerEvent {
  return { type, event_id: newId('event'), ...fields };
}
