import type { EndOfTurnStrategy } from './types.js';

/** OpenAI's `server_vad`: the turn ends after `silenceDurationMs` of silence, nothing else. */
export function serverVad(silenceDurationMs: number): EndOfTurnStrategy {
  return {
    name: 'server_vad',
    pauseMs: silenceDurationMs,
    maxSilenceMs: silenceDurationMs,
    speculative: false,
    paused: () => undefined,
    decide: () => ({ end: true, reason: 'silence' }),
    resumed: () => undefined,
  };
}
