import { z } from 'zod';
import { VoiceError } from '../errors.js';

/**
 * Client events of the OpenAI Realtime protocol (GA names; the beta names of client events are the
 * same). Unknown fields are ignored, as the OpenAI server does; known fields are type-checked.
 */
const eventId = z.string().max(256).optional();

const turnDetection = z
  .object({
    type: z.enum(['server_vad', 'semantic_vad']).optional(),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    threshold: z.number().gt(0).lt(1).optional(),
    prefix_padding_ms: z.number().int().min(0).max(5000).optional(),
    silence_duration_ms: z.number().int().min(0).max(10_000).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
    x_speech_onset: z.boolean().optional(),
  })
  .nullable();

const transcription = z
  .object({ model: z.string().optional(), language: z.string().max(16).optional() })
  .nullable();

const format = z.unknown();

/** `session.update`: the GA shape (`session.audio.input...`) and the beta flat shape are both read. */
export const sessionPatchSchema = z.object({
  type: z.enum(['realtime', 'transcription']).optional(),
  instructions: z.string().max(100_000).optional(),
  output_modalities: z
    .array(z.enum(['audio', 'text']))
    .min(1)
    .optional(),
  max_output_tokens: z.union([z.number().int().min(1).max(32768), z.literal('inf')]).optional(),
  audio: z
    .object({
      input: z
        .object({
          format: format.optional(),
          transcription: transcription.optional(),
          turn_detection: turnDetection.optional(),
        })
        .optional(),
      output: z
        .object({
          format: format.optional(),
          voice: z.string().max(200).optional(),
          speed: z.number().min(0.25).max(4).optional(),
        })
        .optional(),
    })
    .optional(),
  // Beta shape.
  modalities: z
    .array(z.enum(['audio', 'text']))
    .min(1)
    .optional(),
  voice: z.string().max(200).optional(),
  input_audio_format: format.optional(),
  output_audio_format: format.optional(),
  input_audio_transcription: transcription.optional(),
  turn_detection: turnDetection.optional(),
  max_response_output_tokens: z.union([z.number().int().min(1).max(32768), z.literal('inf')]).optional(),
  speed: z.number().min(0.25).max(4).optional(),
  temperature: z.number().min(0).max(2).optional(),
  // Extension: audio in binary WebSocket frames (see docs/protocol.md).
  binary_audio: z.boolean().optional(),
  // Extension: false = no fillers in this session's answers (see docs/protocol.md).
  x_fillers: z.boolean().optional(),
  // Extension: when this session may be served by the fallback upstream (see docs/protocol.md).
  x_fallback_policy: z
    .array(z.enum(['unready', 'error', 'overflow', 'always', 'never']))
    .max(5)
    .optional(),
});
export type SessionPatch = z.infer<typeof sessionPatchSchema>;

const contentPart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('input_text'), text: z.string().max(100_000) }),
  z.object({ type: z.literal('input_audio'), audio: z.string(), transcript: z.string().optional() }),
  z.object({ type: z.literal('text'), text: z.string().max(100_000) }),
  z.object({ type: z.literal('output_text'), text: z.string().max(100_000) }),
  z.object({ type: z.literal('audio'), transcript: z.string().max(100_000).optional() }),
  z.object({ type: z.literal('output_audio'), transcript: z.string().max(100_000).optional() }),
]);

const messageItem = z.object({
  id: z.string().max(64).optional(),
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system']),
  content: z.array(contentPart).min(1).max(64),
});

export const clientEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session.update'), event_id: eventId, session: sessionPatchSchema }),
  z.object({ type: z.literal('input_audio_buffer.append'), event_id: eventId, audio: z.string() }),
  z.object({ type: z.literal('input_audio_buffer.commit'), event_id: eventId }),
  z.object({ type: z.literal('input_audio_buffer.clear'), event_id: eventId }),
  z.object({
    type: z.literal('conversation.item.create'),
    event_id: eventId,
    previous_item_id: z.string().nullable().optional(),
    item: messageItem,
  }),
  z.object({
    type: z.literal('conversation.item.truncate'),
    event_id: eventId,
    item_id: z.string(),
    content_index: z.number().int().min(0).default(0),
    audio_end_ms: z.number().int().min(0),
  }),
  z.object({ type: z.literal('conversation.item.delete'), event_id: eventId, item_id: z.string() }),
  z.object({ type: z.literal('conversation.item.retrieve'), event_id: eventId, item_id: z.string() }),
  z.object({
    type: z.literal('response.create'),
    event_id: eventId,
    response: z
      .object({
        instructions: z.string().max(100_000).optional(),
        output_modalities: z
          .array(z.enum(['audio', 'text']))
          .min(1)
          .optional(),
        modalities: z
          .array(z.enum(['audio', 'text']))
          .min(1)
          .optional(),
        conversation: z.enum(['auto', 'none']).optional(),
        max_output_tokens: z.union([z.number().int().min(1).max(32768), z.literal('inf')]).optional(),
      })
      .optional(),
  }),
  z.object({ type: z.literal('response.cancel'), event_id: eventId, response_id: z.string().optional() }),
  z.object({ type: z.literal('output_audio_buffer.clear'), event_id: eventId }),
]);
export type ClientEvent = z.infer<typeof clientEventSchema>;
export type ContentPart = z.infer<typeof contentPart>;
export const CLIENT_EVENT_TYPES = clientEventSchema.options.map((o) => o.shape.type.value);

/** A JSON text frame → a client event; a VoiceError (with the client's event_id when known) otherwise. */
export function parseClientEvent(text: string): ClientEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientEventError('invalid_json', 'the message is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ClientEventError('invalid_event', 'an event is a JSON object with a "type" field');
  const { type, event_id } = json as { type?: unknown; event_id?: unknown };
  const clientEventId = typeof event_id === 'string' ? event_id : undefined;
  if (typeof type !== 'string')
    throw new ClientEventError('invalid_event', 'the event has no "type" string', clientEventId, 'type');
  if (!(CLIENT_EVENT_TYPES as string[]).includes(type))
    throw new ClientEventError(
      'unknown_event',
      `unknown event type "${type.slice(0, 80)}"; see docs/protocol.md`,
      clientEventId,
      'type',
    );
  const result = clientEventSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const param = issue.path.join('.');
    throw new ClientEventError(
      'invalid_event',
      `${type}: ${param || 'event'}: ${issue.message}`,
      clientEventId,
      param,
    );
  }
  return result.data;
}

export class ClientEventError extends VoiceError {
  constructor(
    code: ConstructorParameters<typeof VoiceError>[0],
    message: string,
    readonly clientEventId?: string,
    readonly param?: string,
  ) {
    super(code, message);
  }
}

/** Throws `invalid_audio` unless a base64 `audio` field is base64. */
export function checkAudioBase64(text: string): void {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
    throw new ClientEventError('invalid_audio', 'audio is not valid base64');
}

/** The bytes of a base64 `audio` field; `invalid_audio` when it is not base64. */
export function decodeAudioBase64(text: string): Buffer {
  checkAudioBase64(text);
  return Buffer.from(text, 'base64');
}
