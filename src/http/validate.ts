import { z } from 'zod';
import { VoiceError } from '../errors.js';

/** Parses a request body with a zod schema; the error names each bad field (`invalid_request`). */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    throw new VoiceError('invalid_request', 'the body must be a JSON object');
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.join(', ')}`;
    return `${field}: ${issue.message}`;
  });
  throw new VoiceError('invalid_request', details.join('; '));
}

/** Session ids: ours (`sess_…`) or a client's own, safe in logs and URLs. */
export const sessionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _ . : - only, at most 128 characters');

/** Text to answer or to speak: non-empty once trimmed (`empty_text`), at most `max` characters. */
export function requireText(text: string, field: string, max: number): string {
  if (text.trim() === '') throw new VoiceError('empty_text', `${field} is empty`);
  if (text.length > max)
    throw new VoiceError('invalid_request', `${field} holds ${text.length} characters; the limit is ${max}`);
  return text;
}
