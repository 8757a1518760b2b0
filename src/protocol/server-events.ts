import { randomUUID } from 'node:crypto';

/** A server event as sent: `type`, a unique `event_id`, and the event's fields. */
export type ServerEvent = { type: string; event_id: string } & Record<string, unknown>;

/** Which names the client speaks: the GA protocol, or the beta one (`OpenAI-Beta: realtime=v1`). */
export type Dialect = 'ga' | 'beta';

/** Server events whose beta name differs from the GA name. */
export const BETA_NAMES: Record<string, string> = {
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
export function newId(prefix: 'event' | 'item' | 'resp'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

export function serverEvent(type: string, fields: Record<string, unknown> = {}): ServerEvent {
  return { type, event_id: newId('event'), ...fields };
}

type Shape = Record<string, unknown>;
/** Where a response's content part is: every delta and done event of a response carries it. */
export interface PartRef {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}
type TranscriptionRef = { item_id: string; content_index: number };

/** Every server event this service sends, by type, with its fields (docs/protocol.md). */
export interface ServerEventFields {
  error: {
    error: { type: string; code: string; message: string; param: string | null; event_id: string | null };
  };
  'session.created': { session: Shape };
  'session.updated': { session: Shape };
  'input_audio_buffer.speech_started': { audio_start_ms: number; item_id: string };
  'input_audio_buffer.speech_stopped': { audio_end_ms: number; item_id: string };
  'input_audio_buffer.x_speech_onset': { audio_start_ms: number };
  'input_audio_buffer.x_speech_onset_dropped': { audio_end_ms: number };
  'input_audio_buffer.committed': { previous_item_id: string | null; item_id: string };
  'input_audio_buffer.cleared': Record<string, never>;
  'output_audio_buffer.cleared': Record<string, never>;
  'conversation.item.created': { previous_item_id: string | null; item: Shape };
  'conversation.item.retrieved': { item: Shape };
  'conversation.item.deleted': { item_id: string };
  'conversation.item.truncated': { item_id: string; content_index: number; audio_end_ms: number };
  'conversation.item.input_audio_transcription.delta': TranscriptionRef & { delta: string };
  'conversation.item.input_audio_transcription.completed': TranscriptionRef & { transcript: string };
  'response.created': { response: Shape };
  'response.done': { response: Shape };
  'response.output_item.added': { response_id: string; output_index: number; item: Shape };
  'response.output_item.done': { response_id: string; output_index: number; item: Shape };
  'response.content_part.added': PartRef & { part: Shape };
  'response.content_part.done': PartRef & { part: Shape };
  'response.output_text.delta': PartRef & { delta: string };
  'response.output_text.done': PartRef & { text: string };
  'response.output_audio_transcript.delta': PartRef & { delta: string };
  'response.output_audio_transcript.done': PartRef & { transcript: string };
  'response.output_audio.delta': PartRef & { delta: string };
  'response.output_audio.done': PartRef;
}

export type ServerEventType = keyof ServerEventFields;

/** The union of all server events as sent (GA names; `eventName` gives the beta ones). */
export type TypedServerEvent = {
  [K in ServerEventType]: { type: K; event_id: string } & ServerEventFields[K];
}[ServerEventType];

/** Sends one server event, its fields checked against its type. */
export type EmitEvent = <K extends ServerEventType>(type: K, fields: ServerEventFields[K]) => void;
