import type { EndOfTurnStrategy } from './types.js';

/** `turn_detection: null`: no VAD; a turn ends when the client commits the input buffer. */
export const manual: EndOfTurnStrategy = {
  name: 'manual',
  pauseMs: undefined,
  maxSilenceMs: Infinity,
  speculative: false,
  paused: () => undefined,
  decide: () => ({ end: false }),
  resumed: () => undefined,
};
