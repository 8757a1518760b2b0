import type { Config } from '../config.js';
import type { FallbackPolicyName } from '../protocol/session-settings.js';

/** Why a session is served upstream. */
export type FallbackReason = 'unready' | 'error' | 'overflow' | 'always';

/**
 * Whether `reason` lets a session go upstream: a key is set, the server's policy names it, and the
 * session's own policy (`x_fallback_policy`, which can only narrow the server's) does not refuse it.
 */
export function fallbackAllows(
  config: Config,
  reason: FallbackReason,
  sessionPolicy?: readonly FallbackPolicyName[],
): boolean {
  const { apiKey, policy } = config.fallback.realtime;
  if (apiKey === '' || policy.includes('never') || !policy.includes(reason)) return false;
  return !sessionPolicy || (!sessionPolicy.includes('never') && sessionPolicy.includes(reason));
}

/** Whether the fallback can serve sessions at all (a key, and a policy other than `never`). */
export function fallbackConfigured(config: Config): boolean {
  const { apiKey, policy } = config.fallback.realtime;
  return apiKey !== '' && policy.length > 0 && !policy.includes('never');
}

/** Why a session that is starting goes upstream, if it does. */
export function startReason(
  config: Config,
  local: { serving: boolean; full: boolean },
): FallbackReason | undefined {
  if (fallbackAllows(config, 'always')) return 'always';
  if (!local.serving && fallbackAllows(config, 'unready')) return 'unready';
  if (local.full && fallbackAllows(config, 'overflow')) return 'overflow';
  return undefined;
}
