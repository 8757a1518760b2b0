import type { TurnEngine } from '../engines/turn/types.js';
import type { Logger } from '../log.js';
import type { Eagerness } from '../protocol/session-settings.js';
import { unfinishedClause } from './text-signal.js';
import type { Decision, EndOfTurnStrategy, PauseView } from './types.js';

/**
 * What eagerness means: how sure the end-of-turn model must be, and the silence that always ends
 * the turn. `auto` is `medium`, as OpenAI documents it.
 */
export const EAGERNESS: Record<Eagerness, { threshold: number; maxSilenceMs: number }> = {
  high: { threshold: 0.3, maxSilenceMs: 1000 },
  medium: { threshold: 0.5, maxSilenceMs: 1500 },
  auto: { threshold: 0.5, maxSilenceMs: 1500 },
  low: { threshold: 0.8, maxSilenceMs: 3000 },
};
/** Below the threshold the model is asked again once the silence has grown by this much. */
export const REASK_MS = 300;

export interface SemanticVadOptions {
  engine: TurnEngine;
  eagerness: Eagerness;
  /** VAD silence that makes a pause (and asks the model). */
  pauseMs: number;
  speculative: boolean;
  /** Spoken language, for the transcript check. */
  language: string;
  /** When the model fails, turns end after this silence (server_vad's), as without it. */
  fallbackSilenceMs: number;
  logger: Logger;
}

/**
 * OpenAI's `semantic_vad` on Smart Turn: at each pause (`pauseMs` of VAD silence) the model
 * hears the turn's last 8 s. The turn ends when the model says complete (≥ threshold) and the
 * speculative transcript, once it covers all the speech, does not stop on a word that cannot
 * end a clause; below the threshold the model is asked again as the silence grows; the
 * eagerness' longest silence always ends it.
 */
export function semanticVad(o: SemanticVadOptions): EndOfTurnStrategy {
  const { threshold, maxSilenceMs } = EAGERNESS[o.eagerness];
  let generation = 0;
  let probability: number | undefined;
  let failed = false;
  let asking = false;
  let askedAtMs = 0;
  let wakeUp: () => void = () => undefined;

  const ask = (view: PauseView) => {
    const mine = generation;
    asking = true;
    askedAtMs = view.silenceMs;
    o.engine.predict(view.audio16k()).then(
      (prediction) => {
        if (mine !== generation) return;
        asking = false;
        probability = prediction.probability;
        o.logger.debug(
          { probability: Math.round(prediction.probability * 1000) / 1000, silenceMs: Math.round(askedAtMs) },
          'end-of-turn model',
        );
        wakeUp();
      },
      (err: unknown) => {
        if (mine !== generation) return;
        asking = false;
        failed = true;
        o.logger.warn(
          { err: (err as Error).message },
          'end-of-turn model failed; this pause ends on silence',
        );
        wakeUp();
      },
    );
  };

  const textHolds = (view: PauseView): boolean => {
    if (!o.speculative) return false;
    if (view.transcribing()) return true;
    const why = unfinishedClause(view.transcript()?.text ?? '', o.language);
    if (why) o.logger.debug({ why }, 'turn held: the transcript cannot end here');
    return why !== undefined;
  };

  return {
    name: 'semantic_vad',
    pauseMs: o.pauseMs,
    maxSilenceMs,
    speculative: o.speculative,
    paused(view, wake) {
      generation++;
      probability = undefined;
      failed = false;
      wakeUp = wake;
      ask(view);
    },
    decide(view): Decision {
      if (view.silenceMs >= maxSilenceMs) return { end: true, reason: 'max_silence' };
      if (failed) {
        if (view.silenceMs < o.fallbackSilenceMs || textHolds(view)) return { end: false };
        return { end: true, reason: 'silence' };
      }
      if (probability === undefined) return { end: false };
      if (probability < threshold) {
        if (!asking && view.silenceMs - askedAtMs >= REASK_MS) ask(view);
        return { end: false };
      }
      return textHolds(view) ? { end: false } : { end: true, reason: 'model' };
    },
    resumed() {
      generation++;
      asking = false;
    },
  };
}
