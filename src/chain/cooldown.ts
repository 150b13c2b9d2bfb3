/**
 * Cooldowns: how long a failed backend is skipped without a request. They outlive the turn (a model that was
 * rate-limited a second ago is not asked again on the next turn), so they live with the chain, not the episode.
 * Pure: every time is scenario ms passed in.
 */
import type { FailureClass } from '../../contract/events.js';
import type { PolicyConfig } from '../config.js';
import type { Backend } from './backends.js';

export interface Cooldown {
  /** Scenario ms until which the backend is skipped. */
  until: number;
  /** The failure that put it there. */
  cls: FailureClass;
}

export type Cooldowns = ReadonlyMap<string, Cooldown>;

/** What the policy needs to know of a failure (times already converted to scenario ms). */
export interface FailureFacts {
  cls: FailureClass;
  status?: number;
  /** Scenario ms to wait, from Retry-After. */
  retryAfterMs?: number;
  /** Scenario ms instant of X-RateLimit-Reset. */
  resetAt?: number;
  daily?: boolean;
}

/**
 * The cooldowns a failure of `backend` at `now` sets, by backend id. Usually one entry; an account problem
 * (401, 402) is the key's, not the model's, so it sets one for every OpenRouter backend.
 */
export function cooldownsAfter(
  backend: Backend,
  failure: FailureFacts,
  now: number,
  backends: readonly Backend[],
  policy: PolicyConfig,
): [string, Cooldown][] {
  const { cls } = failure;
  const one = (until: number | undefined): [string, Cooldown][] => (until === undefined ? [] : [[backend.id, { until, cls }]]);
  switch (cls) {
    case 'rate-limit':
      // A daily quota is out until its reset; otherwise Retry-After is the provider's own advice, then the reset.
      if (failure.daily) return one(failure.resetAt ?? now + policy.notFoundCooldownMs);
      if (failure.retryAfterMs !== undefined) return one(now + failure.retryAfterMs);
      return one(failure.resetAt ?? now + policy.rateLimitCooldownMs);
    case 'unavailable':
      if (failure.status === 404) return one(now + policy.notFoundCooldownMs);
      return one(now + (failure.retryAfterMs ?? policy.unavailableCooldownMs));
    case 'timeout':
    case 'stall':
      // Each of these cost a whole deadline; don't make the next turn pay it again.
      return one(now + policy.timeoutCooldownMs);
    case 'connection':
    case 'malformed':
      return one(now + policy.unavailableCooldownMs);
    case 'account':
      return backends
        .filter((b) => b.kind === 'openrouter')
        .map((b): [string, Cooldown] => [b.id, { until: now + policy.accountCooldownMs, cls }]);
    case 'bad-request':
      // The request was at fault, not the backend: the next request may be fine.
      return [];
  }
}

/** Merges new cooldowns into a book, keeping the later `until` where both exist. */
export function mergeCooldowns(book: Map<string, Cooldown>, updates: [string, Cooldown][]): void {
  for (const [id, cooldown] of updates) {
    const current = book.get(id);
    if (!current || current.until < cooldown.until) book.set(id, cooldown);
  }
}
