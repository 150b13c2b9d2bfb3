/** Small waiting tools for the player: every wait ends on an event, a deadline or an abort, and leaves no timer behind. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../contract/clock.js';

/** Scenario time as the player sees it: wall time times the speed, or a stack's own (virtual) clock. */
export interface Timeline {
  /** Scenario ms now. */
  now(): number;
  /** Resolves at scenario instant `ms` (at once if it is past); rejects when `signal` aborts. */
  until(ms: number, signal: AbortSignal): Promise<void>;
}

export function wallTimeline(originEpochMs: number, speed: number): Timeline {
  return { now: () => (Date.now() - originEpochMs) * speed, until: (ms, signal) => sleepUntil(originEpochMs + ms / speed, signal) };
}

export function clockTimeline(clock: Clock): Timeline {
  return { now: () => clock.now(), until: (ms, signal) => clock.sleep(Math.max(0, ms - clock.now()), signal) };
}

/** Resolves at the wall instant `epochMs` (at once if it is past); rejects when `signal` aborts. */
export async function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  // Until Date.now() says so, not one timer: a timer's delay is whole milliseconds and the instant need not be
  // (origin + ms / speed), so one timer may wake up to a millisecond early, which is 20 ms of scenario time at speed 20.
  while (Date.now() < epochMs) await sleep(Math.max(1, Math.ceil(epochMs - Date.now())), undefined, { signal });
}

/** Resolves when `next` does or at scenario instant `ms`, whichever is first; rejects when `signal` aborts. No timer is left behind. */
export async function untilOr(next: Promise<void>, time: Timeline, ms: number, signal: AbortSignal): Promise<void> {
  const done = new AbortController();
  const onAbort = () => done.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([next, time.until(ms, done.signal)]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    done.abort();
  }
  signal.throwIfAborted();
}

/** The promise's value if it settles within `ms`, else undefined. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A one-shot "something changed" signal. */
export function notifier(): { next: Promise<void>; notify: () => void } {
  let notify: () => void = () => {};
  const next = new Promise<void>((resolve) => (notify = resolve));
  return { next, notify };
}
