import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { VoiceError } from '../errors.js';
import { parseBody, sessionIdSchema } from '../http/validate.js';
import type { Logger } from '../log.js';
import type { StoredItem } from '../store/types.js';
import { attachPlainStream } from '../telephony/plain-stream.js';
import { connectStreamTwiml } from '../telephony/twiml.js';
import { publicBase, requestedUrl, validTwilioSignature } from '../telephony/twilio-signature.js';
import { attachTwilioStream } from '../telephony/twilio-stream.js';
import type { RouteContext } from './context.js';

export const TWILIO_STREAM_PATH = '/v1/telephony/twilio';
export const TWILIO_VOICE_PATH = '/v1/telephony/twilio/voice';
export const PLAIN_STREAM_PATH = '/v1/telephony/stream';
/** Paths Twilio requests: with an auth token set, its signature stands in for a bearer token. */
export const TWILIO_PATHS = [TWILIO_STREAM_PATH, TWILIO_VOICE_PATH];

const plainQuery = z.looseObject({
  encoding: z.enum(['mulaw', 'l16']).default('mulaw'),
  marks: z.enum(['true', 'false']).default('false'),
  session_id: sessionIdSchema.optional(),
});

/** Twilio's webhook parameters (form-encoded): every one is signed, so all are kept as strings. */
function formParams(body: unknown): Record<string, string> {
  if (typeof body !== 'object' || body === null) return {};
  return Object.fromEntries(
    Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * Phone calls: Twilio's TwiML webhook and Media Stream, and the plain 8 kHz WebSocket for other
 * carriers and SIP gateways (docs/telephony.md).
 */
export async function telephonyRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  logger: Logger,
): Promise<void> {
  const { telephony } = ctx.config;
  if (!telephony.enabled) return;
  const checkTwilio = (request: FastifyRequest, url: string, params?: Record<string, string>) => {
    if (!telephony.twilioAuthToken) return;
    const signature = request.headers['x-twilio-signature'];
    if (
      !validTwilioSignature(
        telephony.twilioAuthToken,
        typeof signature === 'string' ? signature : undefined,
        url,
        params,
      )
    )
      throw new VoiceError('twilio_signature_invalid', 'X-Twilio-Signature does not match this request');
  };
  const sessionOptions = () => ({
    runtime: ctx.loaded(),
    currentRuntime: ctx.loaded,
    registry: ctx.sessions,
    config: ctx.config,
    logger,
    store: ctx.store,
    metrics: ctx.metrics,
    rag: ctx.rag,
  });

  await app.register((scope, _options, done) => {
    // Twilio posts its webhooks form-encoded; only these routes read that body type.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.post(TWILIO_VOICE_PATH, (request, reply) => {
      const params = formParams(request.body);
      checkTwilio(request, requestedUrl(request, telephony.publicUrl), params);
      const streamUrl = publicBase(request, telephony.publicUrl, true) + TWILIO_STREAM_PATH;
      const numbers = {
        ...(params.From ? { From: params.From } : {}),
        ...(params.To ? { To: params.To } : {}),
      };
      return reply.type('text/xml').send(connectStreamTwiml(streamUrl, numbers));
    });
    done();
  });

  app.get(
    TWILIO_STREAM_PATH,
    {
      websocket: true,
      preHandler: (request, _reply, done) => {
        try {
          checkTwilio(request, requestedUrl(request, telephony.publicUrl, true));
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    },
    (socket) => attachTwilioStream(socket, sessionOptions()),
  );

  const stored = new WeakMap<FastifyRequest, { query: z.infer<typeof plainQuery>; items: StoredItem[] }>();
  app.get(
    PLAIN_STREAM_PATH,
    {
      websocket: true,
      preHandler: async (request) => {
        const query = parseBody(plainQuery, request.query ?? {});
        const items = query.session_id
          ? await ctx.store.history(request.principal.owner, query.session_id, ctx.config.store.historyItems)
          : [];
        stored.set(request, { query, items });
      },
    },
    (socket, request) => {
      const { query, items } = stored.get(request)!;
      attachPlainStream(
        socket,
        {
          ...sessionOptions(),
          principalKey: request.principal.key,
          owner: request.principal.owner,
          sessionId: query.session_id,
          history: items,
        },
        { encoding: query.encoding, marks: query.marks === 'true' },
      );
    },
  );
}
