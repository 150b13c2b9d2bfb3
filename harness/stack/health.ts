/** Waiting for a service's health URL to answer 200. */
import { setTimeout as sleep } from 'node:timers/promises';

/** One look: true when `url` answers 2xx within `timeoutMs`. */
export async function answers(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Resolves once `url` answers 2xx. Rejects with `what` in the message after `timeoutMs`, or with the reason
 * of `signal` (the caller aborts it when the service exits).
 */
export async function waitForHealth(url: string, what: string, timeoutMs: number, signal?: AbortSignal, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (await answers(url)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s`);
    await sleep(pollMs, undefined, signal ? { signal } : {});
  }
}
