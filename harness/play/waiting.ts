/** Small waiting tools for the player: every wait ends on an event, a deadline or an abort, and leaves no timer behind. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves at the wall instant `epochMs` (at once if it is past); rejects when `signal` aborts. */
export function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  return sleep(Math.max(0, epochMs - Date.now()), undefined, { signal });
}

/** Resolves when `next` does or at `epochMs`, whichever is first; rejects when `signal` aborts. No timer is left behind. */
export async function untilOr(next: Promise<void>, epochMs: number, signal: AbortSignal): Promise<void> {
  const done = new AbortController();
  const onAbort = () => done.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([next, sleepUntil(epochMs, done.signal)]);
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
