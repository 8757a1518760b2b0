import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ERROR_CODES, VoiceError, type ErrorCode } from '../errors.js';

/** The HTTP status of each catalogue code (absent: 500). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_json: 400,
  invalid_request: 400,
  invalid_argument: 400,
  invalid_event: 400,
  invalid_audio: 400,
  empty_audio: 400,
  empty_text: 400,
  unauthorized: 401,
  token_expired: 401,
  origin_not_allowed: 403,
  forbidden: 403,
  twilio_signature_invalid: 403,
  file_not_found: 404,
  not_found: 404,
  model_unknown: 404,
  item_not_found: 404,
  conversation_not_found: 404,
  kb_document_not_found: 404,
  body_too_large: 413,
  audio_too_long: 413,
  kb_document_too_large: 413,
  frame_too_large: 413,
  unsupported_media_type: 415,
  unsupported_audio_format: 415,
  kb_unsupported_type: 415,
  kb_document_unreadable: 422,
  kb_document_empty: 422,
  rate_limited: 429,
  session_limit_reached: 429,
  engine_failed: 502,
  fallback_unavailable: 502,
  fallback_auth_failed: 502,
  fallback_failed: 502,
  engine_unavailable: 503,
  engine_busy: 503,
  not_ready: 503,
  shutting_down: 503,
  store_unavailable: 503,
  limits_unavailable: 503,
  kb_unavailable: 503,
  timeout: 504,
};

export function httpStatus(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The body of every HTTP error, as OpenAI's API shapes it, with a code from the catalogue. */
export function errorBody(code: ErrorCode, message: string) {
  return {
    error: { code, message, type: httpStatus(code) < 500 ? 'invalid_request_error' : 'server_error' },
  };
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(httpStatus(code)).type('application/json').send(errorBody(code, message));
}

/** Maps fastify's own errors (body parsing, limits, validation) onto the catalogue. */
function fromFastify(err: FastifyError): VoiceError {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new VoiceError('invalid_json', 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new VoiceError('body_too_large', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new VoiceError('unsupported_media_type', err.message);
  }
  if (err.statusCode === 429) return new VoiceError('rate_limited', err.message);
  if (err.validation) return new VoiceError('invalid_request', err.message);
  if (err.statusCode === 404) return new VoiceError('not_found', err.message);
  if (err.statusCode && err.statusCode < 500) return new VoiceError('invalid_request', err.message);
  return new VoiceError('engine_failed', err.message);
}

/** One error handler for every route: a catalogue code, the matching status, a clear message. */
export function registerErrorHandling(app: FastifyInstance, onError?: (code: ErrorCode) => void): void {
  app.setErrorHandler((err: FastifyError | VoiceError, request, reply) => {
    const error = err instanceof VoiceError ? err : fromFastify(err);
    const status = httpStatus(error.code);
    onError?.(error.code);
    if (['not_ready', 'shutting_down', 'engine_busy', 'limits_unavailable'].includes(error.code))
      void reply.header(
        'retry-after',
        error.code === 'not_ready' || error.code === 'shutting_down' ? '5' : '2',
      );
    // A refusal under load (or by the limits' fail mode, logged where Redis failed) is the
    // service working as designed, not a server error.
    if (status >= 500 && error.code !== 'engine_busy' && error.code !== 'limits_unavailable')
      request.log.error({ code: error.code, err: error.message }, 'request failed');
    else request.log.info({ code: error.code }, 'request refused');
    if (reply.raw.headersSent) {
      reply.raw.destroy();
      return reply;
    }
    return sendError(reply, error.code, error.message || ERROR_CODES[error.code]);
  });
  app.setNotFoundHandler((request, reply) => {
    onError?.('not_found');
    return sendError(reply, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`);
  });
}
