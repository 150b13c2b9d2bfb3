/**
 * The spoken failure policy, as one pure, synchronous decision over the attempt history and the time:
 * what to do next for this turn. No I/O, no clock reads: `now` is passed in, so every branch is unit-tested
 * in milliseconds of virtual time (policy.test.ts).
 *
 * A turn's episode runs passes over the backends in order. A pass skips backends in cooldown and moves on at
 * once after a failure before the first token. When a whole pass fails and some failure was transient:
 * hold once ("Hang on a sec."), wait with exponential backoff (never before the earliest cooldown ends),
 * and run another pass, while the next pass can start within the retry window (measured from the episode's
 * first failure). Otherwise, or when the window is over, apologise. A failure after part of the answer was
 * spoken ends the turn with the apology: switching would make the caller hear the answer twice. A failure after a
 * tool call was handed on ends the turn quietly: the call runs and its follow-up request carries on.
 *
 * Around an attempt, two timers the chain runs from decisions made here: the hold when no answer has started
 * `holdAfterMs` after the turn (`holdDueAt`, once per episode, so silence is bounded whatever a model does),
 * and a hedge on the next backend of the pass when the running one is late (`hedgeTarget`; the delay and
 * budget are hedge.ts'). A backend back from a guessed cooldown is a probe (`isProbe`): models that failed the
 * same way share one probe a pass.
 */
import type { FailureClass } from '../../contract/events.js';
import type { PolicyConfig } from '../config.js';
import type { Backend } from './backends.js';
import { isTransient } from './classify.js';
import type { Cooldown, Cooldowns, FailureFacts } from './cooldown.js';

export interface AttemptRecord {
  backend: string;
  pass: number;
  /** Scenario ms the request started and ended. */
  at: number;
  end: number;
  /** Undefined for a success. */
  failure?: FailureFacts;
  /** True when some of this attempt's answer was already passed on to be spoken (or a tool call to be run). */
  textSent: boolean;
  /** True when a complete tool call was passed on: the framework runs it and asks again with its result. */
  toolCallSent?: boolean;
  /** True when it asked a backend back from a guessed cooldown (see `isProbe`). */
  probe?: boolean;
}

export interface SkipRecord {
  backend: string;
  pass: number;
  at: number;
  until: number;
  /** The failure class of the cooldown it was skipped for (with a fleet's shared cooldowns, maybe another call's). */
  cls?: FailureClass;
  /** Skipped because another call of the fleet probes it: its verdict comes by `until` (shared-cooldowns.ts). */
  probing?: true;
}

/** Everything that happened in one turn's episode, in order. */
export interface Episode {
  startedAt: number;
  attempts: AttemptRecord[];
  skips: SkipRecord[];
  /** True once the hold message was given for this episode. */
  held: boolean;
  /** Waits completed; the current pass is `waits + 1`. */
  waits: number;
}

export type Decision =
  | { kind: 'attempt'; backend: Backend; pass: number; probe?: boolean }
  /** `shared`: not cooling itself, but a probe of the same failure just failed this pass: it shares that end. */
  | { kind: 'skip'; backend: Backend; pass: number; until: number; shared?: boolean }
  | { kind: 'hold' }
  | { kind: 'wait'; until: number; reason: string }
  | { kind: 'apology'; reason: string }
  | { kind: 'done' };

export interface PolicyInput {
  episode: Episode;
  cooldowns: Cooldowns;
  backends: readonly Backend[];
  now: number;
  policy: PolicyConfig;
}

export function newEpisode(startedAt: number): Episode {
  return { startedAt, attempts: [], skips: [], held: false, waits: 0 };
}

/** The next step of the episode. */
export function decide(input: PolicyInput): Decision {
  const { episode, backends, now, policy } = input;
  const cooldowns = withinWindow(input.cooldowns, firstFailureAt(episode, now) + policy.retryWindowMs);
  const last = episode.attempts.at(-1);
  if (last && !last.failure) return { kind: 'done' };
  // A tool call already handed on will run, and the framework asks again with its result: that follow-up is where
  // the answer comes from. Another model now would make its own call (the tool run twice, or a different one), and
  // an apology now would be followed by the answer.
  if (last?.failure && last.toolCallSent) return { kind: 'done' };
  if (last?.failure && last.textSent) return { kind: 'apology', reason: 'failed after part of the answer was spoken' };

  const pass = episode.waits + 1;
  const next = nextInPass({ ...input, cooldowns });
  if (next) return next;
  const probe = probeInsteadOfHolding(episode, cooldowns, backends, now);
  if (probe) return probe;

  // The whole pass failed.
  if (!worthWaiting(episode, cooldowns, backends, now)) {
    return { kind: 'apology', reason: 'every failure was a bad request or an account problem' };
  }
  if (!episode.held) return { kind: 'hold' };

  const windowEnd = firstFailureAt(episode, now) + policy.retryWindowMs;
  // A model skipped in this pass whose cooldown has ended since (another call's head start or probe, a cooldown that
  // ended while the pass asked the others) was not asked: the next pass is now, not a backoff away. bench:fleet met it:
  // a caller skipped the second model for the fleet's head start, the pass ended after it, and the backoff made it
  // wait 8 s for a model that had been free all along.
  // Not sooner than the first backoff step after it was skipped, as a told reset (a cooldown of a millisecond is no storm).
  const freed = episode.skips.filter(
    (s) => s.pass === pass && backends.find((b) => b.id === s.backend)?.kind === 'openrouter' && !((cooldowns.get(s.backend)?.until ?? 0) > now) && !episode.attempts.some((a) => a.pass === pass && a.backend === s.backend),
  );
  const freedPass = freed.length > 0 ? Math.max(now, Math.min(...freed.map((s) => s.at)) + policy.backoffInitialMs) : undefined;
  const earliest = earliestAvailable(cooldowns, backends, now);
  const backoff = Math.min(policy.backoffInitialMs * 2 ** episode.waits, policy.backoffMaxMs);
  const reset = earliestRateLimitReset(cooldowns, backends, now, policy.backoffInitialMs);
  // Never sooner than the first backoff step from now either: a key-wide cooldown spread to models that did not fail
  // keeps their own older failure time, so a tiny Retry-After there would still read as told well ahead.
  const paced = reset !== undefined && reset < now + backoff ? Math.max(reset, now + policy.backoffInitialMs) : now + backoff;
  const nextPass = Math.min(Math.max(paced, earliest), freedPass ?? Infinity);
  if (nextPass <= windowEnd) {
    const why =
      nextPass === freedPass && freedPass < Math.max(paced, earliest)
        ? 'a model skipped this pass is free'
        : nextPass === now + backoff
        ? `backoff ${backoff} ms`
        : nextPass === paced && paced < now + backoff
          ? `a rate limit's reset time (backoff ${backoff} ms was longer)`
          : `a cooldown ends (backoff ${backoff} ms was shorter)`;
    return { kind: 'wait', until: nextPass, reason: `${why}, pass ${pass + 1} next` };
  }
  // Backoff overshoots the window but something could answer by its end: one last pass at the end.
  if (earliest <= windowEnd && now < windowEnd) return { kind: 'wait', until: windowEnd, reason: 'last pass at the end of the retry window' };
  // The last pass found another call of the fleet probing a model: its verdict comes within a look (a second), so the
  // caller waits for it once rather than hear the apology a moment before the fleet hears the model is back. Once:
  // a look past the window's end by more than the first backoff step is not taken.
  const verdicts = episode.skips.filter((s) => s.pass === pass && s.probing && s.until > now).map((s) => s.until);
  const verdictBy = verdicts.length > 0 ? Math.min(...verdicts) : undefined;
  if (verdictBy !== undefined && verdictBy <= windowEnd + policy.backoffInitialMs) {
    return { kind: 'wait', until: verdictBy, reason: "another call's probe at the end of the retry window: its verdict" };
  }
  return { kind: 'apology', reason: 'retry window over' };
}

/**
 * The cooldowns as this episode sees them: a guessed one ends by the end of the retry window at the latest.
 * Our own guess (grown over a long outage) must not make the caller hear the apology before the window is
 * over: the last pass at its end probes them all. A provider's reset time is kept as given.
 */
function withinWindow(cooldowns: Cooldowns, windowEnd: number): Cooldowns {
  const view = new Map(cooldowns);
  for (const [id, cooldown] of cooldowns) if (cooldown.guessed && cooldown.until > windowEnd) view.set(id, { ...cooldown, until: windowEnd });
  return view;
}

/** Backends asked or skipped in this pass (and `also`). */
function handledInPass(episode: Episode, pass: number, also: readonly string[] = []): Set<string> {
  return new Set([
    ...episode.attempts.filter((a) => a.pass === pass).map((a) => a.backend),
    ...episode.skips.filter((s) => s.pass === pass).map((s) => s.backend),
    ...also,
  ]);
}

/**
 * A probe: an OpenRouter backend back from a cooldown we guessed (no provider said when). Backends that failed
 * the same way share their fate: when one probe of a failure class failed in this pass, the others back from
 * that class are skipped until the failed probe's new end, without a request ("chain down, local up" costs
 * one dead request a round instead of one per model). Which of them is probed rotates: the one that failed
 * longest ago goes first, so a model that recovered while another stays down is found within a round or two.
 */
function isProbe(backend: Backend, cooldowns: Cooldowns, now: number): boolean {
  const cooldown = cooldowns.get(backend.id);
  return backend.kind === 'openrouter' && cooldown?.guessed === true && cooldown.until <= now;
}

/** Requests to the local server a pass may make while it keeps dropping the connection (`againAtOnce`). */
export const LOCAL_TRIES_PER_PASS = 3;

/**
 * The local server dropped the connection without refusing it: it is up (a flapping or restarting server) and
 * may answer the next request, so it is asked again at once, up to LOCAL_TRIES_PER_PASS in a pass. It is the last
 * resort on the same machine and costs no quota; a backoff or cooldown here would be the caller's wait alone
 * (a flapping local server under a dead chain made holdline's slowest answer 8.7 s against FallbackAdapter's 4.7 s).
 * A refusal (nothing listens) is a server that is down, and waits its cooldown as before.
 */
function againAtOnce(episode: Episode, backend: Backend, pass: number): boolean {
  if (backend.kind !== 'local' || episode.skips.some((s) => s.pass === pass && s.backend === backend.id)) return false;
  const tries = episode.attempts.filter((a) => a.pass === pass && a.backend === backend.id);
  return tries.length < LOCAL_TRIES_PER_PASS && tries.every((a) => a.failure?.cls === 'connection' && a.failure.refused === false);
}

/** The next step within the current pass: an attempt or a skip, or undefined when the pass is over. */
function nextInPass({ episode, cooldowns, backends, now }: PolicyInput): Decision | undefined {
  const pass = episode.waits + 1;
  const handled = handledInPass(episode, pass);
  const open = backends.filter((b) => !handled.has(b.id) || againAtOnce(episode, b, pass));
  for (const backend of open) {
    const cooldown = cooldowns.get(backend.id);
    if (cooldown && cooldown.until > now) return { kind: 'skip', backend, pass, until: cooldown.until };
    if (!isProbe(backend, cooldowns, now) || !cooldown) return { kind: 'attempt', backend, pass };
    const failedProbe = episode.attempts.find(
      (a) => a.pass === pass && a.probe && a.failure?.cls === cooldown.cls && (cooldowns.get(a.backend)?.until ?? 0) > now,
    );
    if (failedProbe) return { kind: 'skip', backend, pass, until: (cooldowns.get(failedProbe.backend) as Cooldown).until, shared: true };
    // Rotate: another backend back from the same class that failed longer ago is probed first.
    const sameClass = open.filter((b) => isProbe(b, cooldowns, now) && cooldowns.get(b.id)?.cls === cooldown.cls);
    const oldest = sameClass.reduce((a, b) => ((cooldowns.get(b.id)?.since ?? 0) < (cooldowns.get(a.id)?.since ?? 0) ? b : a));
    return { kind: 'attempt', backend: oldest, pass, probe: true };
  }
  return undefined;
}

/**
 * A pass that asked nobody because every backend is cooling, some on our own guess: probe the first guessed
 * one in chain order (the preferred model) instead of holding. A guess exists to spare dead requests while
 * something else answers; when nothing else can, it must not keep the caller waiting (after a long outage a
 * guess has grown to a minute, and the model may be back). A provider's reset time is still waited for.
 * A local server that refused the connection asked nobody either: nothing listens there, so it cannot stand in
 * for the probe (the 30 s storm with the local server down waited, at 35 s, for a 16 s guess to end at 43 s
 * because the pass had "asked" the refused local server, and answered 13 s after the storm).
 */
function probeInsteadOfHolding(episode: Episode, cooldowns: Cooldowns, backends: readonly Backend[], now: number): Decision | undefined {
  const pass = episode.waits + 1;
  if (episode.attempts.some((a) => a.pass === pass && !refusedLocal(a, backends))) return undefined;
  // A model, not the local server: the refused local server it replaces is the one that just failed this pass.
  const asked = new Set(episode.attempts.filter((a) => a.pass === pass).map((a) => a.backend));
  const guessed = backends.filter((b) => !asked.has(b.id) && cooldowns.get(b.id)?.guessed === true && (cooldowns.get(b.id)?.until ?? 0) > now);
  if (guessed.length === 0) return undefined;
  const first = guessed[0] as Backend;
  return { kind: 'attempt', backend: first, pass, probe: first.kind === 'openrouter' };
}

/** An attempt on the local server whose connection was refused: nothing listened, so nobody was asked. */
function refusedLocal(attempt: AttemptRecord, backends: readonly Backend[]): boolean {
  const local = backends.find((b) => b.id === attempt.backend)?.kind === 'local';
  return local && attempt.failure?.cls === 'connection' && attempt.failure.refused === true;
}

/**
 * The backend a hedge would ask while `running` is still waiting for its first token: the next one of this
 * pass that is neither cooling nor a probe (a hedge on a backend we think is down would waste a request).
 */
export function hedgeTarget({ episode, cooldowns, backends, now }: PolicyInput, running: Backend): Backend | undefined {
  const handled = handledInPass(episode, episode.waits + 1, [running.id]);
  const after = backends.slice(backends.indexOf(running) + 1);
  return after.find((b) => !handled.has(b.id) && !((cooldowns.get(b.id)?.until ?? 0) > now) && !isProbe(b, cooldowns, now));
}

/**
 * When the caller hears the hold if no answer has started: `holdAfterMs` after the user's turn ended, once per
 * episode, whatever the backends are doing (a stall, a slow model, a hang before headers), so the longest
 * silence after a turn is bounded. Undefined once the hold was given.
 */
export function holdDueAt(episode: Episode, policy: PolicyConfig): number | undefined {
  return episode.held ? undefined : episode.startedAt + policy.holdAfterMs;
}

/** The episode's first failure (or skip): the retry window is measured from it. */
export function firstFailureAt(episode: Episode, now: number): number {
  const times = [...episode.attempts.filter((a) => a.failure).map((a) => a.end), ...episode.skips.map((s) => s.at)];
  return times.length > 0 ? Math.min(...times) : now;
}

/**
 * Only transient OpenRouter failures justify keeping the caller waiting: a rate limit, an outage, a timeout.
 * The local server refusing connections is not one (it is down, not busy), nor is a bad request or a bad key.
 */
function worthWaiting(episode: Episode, cooldowns: Cooldowns, backends: readonly Backend[], now: number): boolean {
  const openrouter = new Set<string>(backends.filter((b) => b.kind === 'openrouter').map((b) => b.id));
  const failedTransiently = episode.attempts.some((a) => a.failure && openrouter.has(a.backend) && isTransient(a.failure.cls));
  // With a fleet's shared cooldowns a call may meet a storm only through skips (another call made the failing
  // requests): a model skipped for a transient cooldown this episode is as good a reason to wait, even once that
  // cooldown has ended (the next pass asks it, or the fleet's probe verdict comes).
  const skippedTransiently = episode.skips.some((s) => s.cls !== undefined && openrouter.has(s.backend) && isTransient(s.cls));
  const coolingTransiently = [...openrouter].some((id) => {
    const cooldown = cooldowns.get(id);
    return cooldown !== undefined && cooldown.until > now && isTransient(cooldown.cls);
  });
  return failedTransiently || coolingTransiently || skippedTransiently;
}

/**
 * The earliest end of a rate limit OpenRouter told (Retry-After, X-RateLimit-Reset, the fleet's `:free` budget), if
 * one is still ahead. It paces the next pass even when it comes before the backoff: a backoff spares a server in
 * trouble from our retries and finds an end nobody told us; a rate limit is a quota with room again at a time its
 * owner said, so waiting longer is the caller's wait for nothing (a 1 s Retry-After under a 1, 2, 4 s backoff
 * answered a 5 s storm 2.7 s after it ended). A key-wide `free-models-per-min` cools every `:free` model at once
 * (cooldown.ts), so a pass at each reset asks one model, not each. A 5xx's Retry-After still waits for the backoff.
 */
function earliestRateLimitReset(cooldowns: Cooldowns, backends: readonly Backend[], now: number, minTellMs: number): number | undefined {
  const ends = backends.flatMap((b) => {
    const cooldown = cooldowns.get(b.id);
    // Only a reset told at least the first backoff step ahead paces: a Retry-After of a few milliseconds (a proxy's,
    // a buggy or hostile server's) would otherwise turn the retry window into a pass a millisecond; it gets the
    // backoff, which grows.
    const toldAhead = cooldown?.since === undefined || cooldown.until - cooldown.since >= minTellMs;
    return b.kind === 'openrouter' && cooldown?.cls === 'rate-limit' && cooldown.guessed !== true && toldAhead && cooldown.until > now ? [cooldown.until] : [];
  });
  if (ends.length === 0) return undefined;
  // As `earliestAvailable`: resets milliseconds apart are one group, so the pass finds them all over.
  const earliest = Math.min(...ends);
  return Math.max(...ends.filter((end) => end <= earliest + COOLDOWN_GROUP_MS));
}

/**
 * Cooldowns that end within this much of each other are one group: backends that failed one after another
 * in the same pass (milliseconds apart) come back together, so the next pass finds them all free instead of
 * skipping the ones whose cooldown ends a few ms later — which made request counts depend on timing jitter.
 */
export const COOLDOWN_GROUP_MS = 500;

/**
 * When some backend may be asked again: the end of the earliest group of cooldowns (or now, if one is free). A local
 * server that refused the connection does not stretch a group: nothing listens there, and waiting for its guess to
 * end held a pass the models' rate limit allowed 376 ms earlier (bench:failover, the 5 s storm).
 */
function earliestAvailable(cooldowns: Cooldowns, backends: readonly Backend[], now: number): number {
  const ends = backends.map((backend) => ({ end: Math.max(cooldowns.get(backend.id)?.until ?? now, now), down: backend.kind === 'local' && cooldowns.get(backend.id)?.cls === 'connection' }));
  const earliest = Math.min(...ends.map((e) => e.end));
  if (earliest <= now) return now;
  return Math.max(earliest, ...ends.filter((e) => !e.down && e.end <= earliest + COOLDOWN_GROUP_MS).map((e) => e.end));
}
