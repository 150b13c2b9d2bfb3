/**
 * Cooldowns: how long a failed backend is skipped without a request. They outlive the turn (a model that was
 * rate-limited a second ago is not asked again on the next turn), so they live with the chain, not the episode.
 * Pure: every time is scenario ms passed in.
 *
 * Cooldowns learn. When the provider says when to come back (Retry-After, X-RateLimit-Reset, a daily reset)
 * that is the cooldown. Otherwise we are guessing: a first failure is probed again soon (a short base, so a
 * short storm costs a short wait), and each further failure in a row doubles the guess up to a cap, so a
 * backend that keeps failing stops costing a dead request every few seconds. One success forgets the streak
 * (`clearAfterSuccess`). The record stays after `until` has passed: its streak is what the next failure
 * grows from, and `guessed` is what makes the next request a probe (policy.ts).
 */
import type { FailureClass } from '../../contract/events.js';
import type { PolicyConfig } from '../config.js';
import { isFree, openRouterBackend, type Backend } from './backends.js';

export interface Cooldown {
  /** Scenario ms until which the backend is skipped. */
  until: number;
  /** The failure that put it there. */
  cls: FailureClass;
  /** Failures in a row without a success in between (1 for a first failure). */
  streak?: number;
  /** True when no provider said when to come back: `until` is our guess, and the next request a probe. */
  guessed?: boolean;
  /** Scenario ms of the failure that set it (a probe that shares another's fate keeps its own). */
  since?: number;
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
  /** OpenRouter's `free-models-per-min` or `-per-day`: the key's limit across every `:free` model (classify.ts, `keyWide`). */
  keyWide?: boolean;
  /** A connection failure: refused (nothing listens) or not (the server dropped the connection). */
  refused?: boolean;
  /** OpenRouter's 400 `<model> is not a valid model ID`: the id it named (classify.ts, `invalidModel`). */
  invalidModel?: string;
}

/** How much a guessed cooldown grows with each failure in a row. */
export const COOLDOWN_GROWTH = 2;

/** A guess for the `streak`-th failure in a row: base, 2 x base, 4 x base... never above the cap (nor below base). */
export function guessedCooldownMs(baseMs: number, streak: number, policy: PolicyConfig): number {
  return Math.min(baseMs * COOLDOWN_GROWTH ** Math.max(0, streak - 1), Math.max(baseMs, policy.cooldownMaxMs));
}

/**
 * The cooldowns a failure of `backend` at `now` sets, by backend id. Usually one entry; an account problem
 * (401, 402) is the key's, not the model's, so it sets one for every OpenRouter backend. `book` is the current
 * cooldowns: the backend's streak grows from its record there.
 */
export function cooldownsAfter(
  backend: Backend,
  failure: FailureFacts,
  now: number,
  backends: readonly Backend[],
  policy: PolicyConfig,
  book: Cooldowns = new Map(),
): [string, Cooldown][] {
  const { cls } = failure;
  const streak = (book.get(backend.id)?.streak ?? 0) + 1;
  const told = (until: number): [string, Cooldown][] => [[backend.id, { until, cls, streak, since: now }]];
  const current = book.get(backend.id);
  // Asked before our own guess ran out (nothing else could answer: policy.ts, `probeInsteadOfHolding`) and failed the
  // same way: the guess was not wrong, so it stands as it was rather than growing (a grown guess pushed both models
  // of a models[] request past the end of a 40 s outage, to the end of the retry window).
  const early = current?.guessed === true && current.until > now && current.cls === cls;
  const guess = (baseMs: number): [string, Cooldown][] =>
    early ? [[backend.id, current]] : [[backend.id, { until: now + guessedCooldownMs(baseMs, streak, policy), cls, streak, guessed: true, since: now }]];
  switch (cls) {
    case 'rate-limit': {
      // A daily quota is out until its reset; otherwise Retry-After is the provider's own advice, then the reset.
      const own = failure.daily
        ? told(failure.resetAt ?? now + policy.notFoundCooldownMs)
        : failure.retryAfterMs !== undefined
          ? told(now + failure.retryAfterMs)
          : failure.resetAt !== undefined
            ? told(failure.resetAt)
            : guess(policy.rateLimitCooldownMs);
      return failure.keyWide ? [...own, ...keyWideFree(own, backend, backends, book)] : own;
    }
    case 'unavailable':
      if (failure.status === 404) return told(now + policy.notFoundCooldownMs);
      if (failure.retryAfterMs !== undefined) return told(now + failure.retryAfterMs);
      return guess(policy.unavailableCooldownMs);
    case 'timeout':
    case 'stall':
      // Each of these cost a whole deadline (or lost a hedge race); don't make the next turn pay it again.
      return guess(policy.timeoutCooldownMs);
    case 'connection':
      // The local server dropped the connection (no refusal): it is up and flapping, and it is the last resort with
      // no quota to spare, so it is not put out of reach; the policy asks it again (policy.ts, `againAtOnce`).
      if (backend.kind === 'local' && failure.refused === false) return [];
      return guess(policy.unavailableCooldownMs);
    case 'malformed':
      return guess(policy.unavailableCooldownMs);
    case 'account':
      return backends
        .filter((b) => b.kind === 'openrouter')
        .map((b): [string, Cooldown] => [b.id, { until: now + policy.accountCooldownMs, cls, streak: (book.get(b.id)?.streak ?? 0) + 1 }]);
    case 'bad-request': {
      // The request was at fault, not the backend: the next request may be fine. Except when OpenRouter does not know
      // a model's id: every request naming it is refused the same way, a round trip each turn for nothing, so that
      // model is out as long as a model nobody serves (a 404). It may be one the request only carried in `models[]`
      // (OPENROUTER_SERVER_FALLBACK): then the asked model is not at fault, and its next request leaves the unknown
      // id out (chain-llm.ts, `fallbacksFor`).
      const named = failure.invalidModel === backend.model ? backend : openRouterBackend(backends, failure.invalidModel);
      if (!named) return [];
      return [[named.id, { until: now + policy.notFoundCooldownMs, cls, streak: (book.get(named.id)?.streak ?? 0) + 1, since: now }]];
    }
  }
}

/**
 * `free-models-per-min` and `free-models-per-day` are the key's limits across every `:free` model (OpenRouter counts
 * them together, failed requests included): the other `:free` models of the chain are out until the same end (the
 * minute's, or the day's reset at UTC midnight of the scenario calendar), without a request each to learn it (which
 * would be a dead request that also counts against the key; for the day, one per model and per turn until midnight).
 * They did not fail themselves, so their streak and failure time stay their own (as the fleet's `:free` budget books
 * them, chain-llm.ts `takeFreeSlot`). A paid model is not under those limits and is left alone.
 */
function keyWideFree(own: [string, Cooldown][], asked: Backend, backends: readonly Backend[], book: Cooldowns): [string, Cooldown][] {
  const end = own[0]?.[1];
  if (!end || !isFree(asked)) return [];
  const { streak: _streak, since, ...shared } = end;
  return backends
    .filter((b) => b.id !== asked.id && isFree(b))
    .map((b): [string, Cooldown] => {
      const current = book.get(b.id);
      return [b.id, { ...shared, ...(current?.streak !== undefined && { streak: current.streak }), ...((current?.since ?? since) !== undefined && { since: current?.since ?? since }) }];
    });
}

/** Merges new cooldowns into a book, keeping the later `until` where both exist (and the longer streak). */
export function mergeCooldowns(book: Map<string, Cooldown>, updates: [string, Cooldown][]): void {
  for (const [id, cooldown] of updates) {
    const current = book.get(id);
    if (!current || current.until < cooldown.until) book.set(id, cooldown);
    else if ((cooldown.streak ?? 0) > (current.streak ?? 0)) book.set(id, { ...current, streak: cooldown.streak });
  }
}

/** A success forgets the backend's failures: its next failure is a first one again. */
export function clearAfterSuccess(book: Map<string, Cooldown>, backendId: string): void {
  book.delete(backendId);
}

/**
 * The cooldowns one failed request sets for every model it carried: `own`, what `cooldownsAfter` gave `asked`, and
 * the models OpenRouter tried after it in the same request (`carried`, OPENROUTER_SERVER_FALLBACK's `models[]`).
 *
 * A request is one failure, however many models it carried: `asked`'s streak grows, and each carried model shares
 * `asked`'s new end without growing its own streak and keeps `since`, when it last failed as the asked model (a
 * failed probe's partners share its end the same way, policy.ts). Why: when every carried model's streak grew and
 * took `since = now`, they stayed tied, the rotation always picked the first model (whose request carries them
 * all), and the group's guess doubled every round (2, 4, 8, 16, 32 s). After "everything down for 40 s" the first
 * answer came at the end of the retry window, 20.6 s after the outage (2.8 s without models[]). Now the probes
 * alternate and each streak grows every other round, as without models[].
 */
export function withCarried(own: [string, Cooldown][], asked: Backend, carried: readonly Backend[], book: Cooldowns = new Map()): [string, Cooldown][] {
  const end = own.find(([id]) => id === asked.id)?.[1];
  if (!end) return own;
  const shared = carried.flatMap((backend): [string, Cooldown][] => {
    const current = book.get(backend.id);
    // A first failure of its own when it has no record; otherwise its record, until the asked model's end.
    return [[backend.id, current ? { ...current, until: Math.max(current.until, end.until), cls: end.cls, guessed: end.guessed === true } : { ...end, streak: 1 }]];
  });
  return [...own, ...shared];
}

/** The base of a guessed cooldown of class `cls`, where one is guessed from a base (cooldownsAfter). */
function guessBaseMs(cls: FailureClass, policy: PolicyConfig): number | undefined {
  if (cls === 'rate-limit') return policy.rateLimitCooldownMs;
  if (cls === 'unavailable' || cls === 'connection' || cls === 'malformed') return policy.unavailableCooldownMs;
  return undefined;
}

/**
 * A later backend answered the turn after `failedIds` failed in the same pass: the caller did not wait on them, so
 * their guessed cooldowns grow one step more (the streak as if they had failed once again). A short base exists
 * so that a storm in which nothing else answers is probed again soon; when something else answers ("chain down,
 * local up"), probing a dead model every other turn is a dead request and a few ms of the caller's wait for
 * nothing. A timeout or a stall (already 30 s) and a provider's reset time are left as they are.
 */
export function cooldownsAfterAnsweredAround(failedIds: readonly string[], book: Cooldowns, now: number, policy: PolicyConfig): [string, Cooldown][] {
  return [...new Set(failedIds)].flatMap((id): [string, Cooldown][] => {
    const cooldown = book.get(id);
    const base = cooldown?.guessed ? guessBaseMs(cooldown.cls, policy) : undefined;
    if (!cooldown || base === undefined || cooldown.until <= now) return [];
    const streak = (cooldown.streak ?? 1) + 1;
    const until = Math.max(cooldown.until, (cooldown.since ?? now) + guessedCooldownMs(base, streak, policy));
    return [[id, { ...cooldown, until, streak }]];
  });
}
