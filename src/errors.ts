/**
 * The error catalogue: every error the service reports to a user has a stable code from here.
 * HTTP routes, WebSocket events and the CLI all speak these codes.
 */
export const ERROR_CODES = {
  invalid_config: 'The configuration is invalid.',
  file_not_found: 'The file does not exist or cannot be read.',
  invalid_audio: 'The audio is not a WAV this service reads.',
  unsupported_audio_format: 'The WAV uses a sample format or rate this service does not read.',
  empty_audio: 'The audio holds no samples.',
  audio_too_long: 'The audio is longer than the duration limit.',
  model_missing: 'A model file is not in any models folder.',
  model_corrupt: 'A model file does not match the sha256 of the manifest.',
  model_unknown: 'No model with this id in models/manifest.json.',
  download_failed: 'Downloading a model failed.',
  engine_unavailable: 'An engine could not be loaded.',
  engine_failed: 'An engine failed while processing.',
  engine_busy: 'An engine has as many requests waiting as it accepts; retry after the given delay.',
  internal_error: 'The server hit a bug; it was logged and the session goes on.',
  aborted: 'The operation was cancelled.',
  timeout: 'The operation took longer than its time limit.',
  invalid_argument: 'A command-line argument or request field is invalid.',
  // Real-time sessions (WebSocket). Codes the OpenAI Realtime API also uses keep its names.
  invalid_json: 'A message is not valid JSON.',
  invalid_event: 'An event is missing a field or has a field of the wrong type.',
  unknown_event: 'The event type is not one this server handles.',
  frame_too_large: 'A WebSocket message is larger than the frame limit.',
  rate_limited: 'Too many messages or requests in a short time.',
  session_limit_reached: 'The server already serves its maximum number of sessions.',
  idle_timeout: 'The session received nothing for longer than the idle timeout.',
  input_audio_buffer_commit_empty: 'The input audio buffer holds too little audio to commit.',
  input_audio_buffer_full: 'The input audio buffer reached its size limit; older audio was dropped.',
  conversation_already_has_active_response: 'A response is already in progress.',
  response_cancel_not_active: 'There is no response in progress to cancel.',
  item_not_found: 'No conversation item has this id.',
  item_too_large: 'The text of an item is longer than the item limit.',
  item_not_truncatable: 'Only assistant audio items can be truncated, up to the audio sent.',
  binary_audio_disabled: 'Binary audio frames were sent but the session did not enable them.',
  input_audio_rate_exceeded: 'Input audio arrived faster than the session accepts; the excess was dropped.',
  inbox_full: 'Messages arrived faster than the session could handle them; it was closed.',
  // HTTP API and operations.
  invalid_request: 'The request body is missing a field or has a field of the wrong type.',
  empty_text: 'The text to answer or to speak is empty.',
  body_too_large: 'The request body is larger than the body limit.',
  unsupported_media_type: 'The request body has a content type this route does not read.',
  not_found: 'No route or resource at this address.',
  unauthorized: 'The request has no valid bearer token.',
  forbidden: 'The bearer token does not carry the scope this route needs.',
  origin_not_allowed: 'The web page opening the WebSocket is not of an allowed origin.',
  token_expired: 'The bearer token has expired.',
  not_ready: 'The engines are still loading or warming up.',
  shutting_down: 'The server is shutting down and takes no new work.',
  store_unavailable: 'The conversation store cannot be opened.',
  limits_unavailable:
    'The shared limits (Redis) cannot be reached and the service is set to refuse work then.',
  store_failed: 'Reading or writing the conversation store failed.',
  conversation_not_found: 'No conversation with this id belongs to the caller.',
  // Knowledge base (RAG).
  kb_unavailable: 'The knowledge base cannot be reached or opened.',
  kb_unsupported_type:
    'The document is of a type the knowledge base does not read (Markdown, text, HTML, PDF).',
  kb_document_too_large: 'The document is larger than the knowledge base accepts.',
  kb_document_unreadable: 'The document cannot be read or decoded.',
  kb_document_empty: 'The document holds no text to index (an empty file, a PDF of scanned images).',
  kb_document_not_found: 'No document of the knowledge base has this id.',
  // Phone calls (Twilio Media Streams, the plain 8 kHz WebSocket).
  call_not_started: 'A phone call sent media, a mark or a digit before its start message.',
  invalid_audio_payload:
    'A phone audio payload is not valid base64, is empty, or is larger than the frame limit.',
  twilio_signature_invalid: "The request's X-Twilio-Signature does not match the auth token and URL.",
  // Fallback to the OpenAI Realtime API (or another upstream speaking it).
  fallback_unavailable:
    'The fallback upstream could not be reached (refused, timed out, or not a Realtime server).',
  fallback_auth_failed: 'The fallback upstream refused its key (401 or 403).',
  fallback_failed: 'The fallback upstream closed the session or failed mid-response.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class VoiceError extends Error {
  override name = 'VoiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAbortError(err: unknown): boolean {
  return (
    (err instanceof VoiceError && err.code === 'aborted') ||
    (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
  );
}

/** Throws the signal's reason as a VoiceError('aborted' | 'timeout') when it is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

export function abortReason(signal: AbortSignal): VoiceError {
  const reason: unknown = signal.reason;
  if (reason instanceof VoiceError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError')
    return new VoiceError('timeout', reason.message, { cause: reason });
  return new VoiceError('aborted', reason instanceof Error ? reason.message : 'cancelled', { cause: reason });
}
