import { z } from 'zod';
import { VoiceError } from '../errors.js';

/**
 * Twilio Media Streams messages, as Twilio documents them
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages). Twilio sends numbers inside
 * strings (`sequenceNumber`, `chunk`, `timestamp`); unknown fields are ignored, since Twilio adds
 * fields over time.
 */
const sid = z.string().min(1).max(64);

const connected = z.looseObject({ event: z.literal('connected'), protocol: z.string().optional() });

const start = z.looseObject({
  event: z.literal('start'),
  streamSid: sid,
  start: z.looseObject({
    streamSid: sid.optional(),
    accountSid: sid,
    callSid: sid,
    tracks: z.array(z.string()).optional(),
    customParameters: z.record(z.string().max(128), z.string().max(1024)).optional(),
    mediaFormat: z.looseObject({
      encoding: z.string(),
      sampleRate: z.number(),
      channels: z.number(),
    }),
  }),
});

const media = z.looseObject({
  event: z.literal('media'),
  media: z.looseObject({
    track: z.string().optional(),
    payload: z.string(),
  }),
});

const mark = z.looseObject({
  event: z.literal('mark'),
  mark: z.looseObject({ name: z.string().max(256) }),
});

const dtmf = z.looseObject({
  event: z.literal('dtmf'),
  dtmf: z.looseObject({ digit: z.string().regex(/^[0-9*#A-D]$/) }),
});

const stop = z.looseObject({ event: z.literal('stop') });

const message = z.discriminatedUnion('event', [connected, start, media, mark, dtmf, stop]);

export type TwilioMessage = z.infer<typeof message>;
export type TwilioStart = z.infer<typeof start>;

const EVENTS = new Set(['connected', 'start', 'media', 'mark', 'dtmf', 'stop']);

/** One message from Twilio, or a `VoiceError` that says what is wrong with it. */
export function parseTwilioMessage(text: string): TwilioMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VoiceError('invalid_json', 'a Twilio message is not valid JSON');
  }
  const event = (value as { event?: unknown } | null)?.event;
  if (typeof event !== 'string' || !EVENTS.has(event))
    throw new VoiceError(
      'unknown_event',
      `unknown Twilio event ${JSON.stringify(event ?? null).slice(0, 60)} (expected connected, start, media, mark, dtmf or stop)`,
    );
  const parsed = message.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VoiceError(
      'invalid_event',
      `Twilio ${event} message: ${issue.path.join('.') || '(message)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Outbound messages: audio to play, a mark to echo once it has played, and clearing what is queued. */
export const twilioOut = {
  media: (streamSid: string, payload: Uint8Array) =>
    JSON.stringify({
      event: 'media',
      streamSid,
      media: {
        payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'),
      },
    }),
  mark: (streamSid: string, name: string) => JSON.stringify({ event: 'mark', streamSid, mark: { name } }),
  clear: (streamSid: string) => JSON.stringify({ event: 'clear', streamSid }),
};
