/** Waiting on a condition instead of sleeping for luck. */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `condition()` is true; looks every `pollMs` (default 20) and rejects after `timeoutMs`
 * (default 10 000) with `what` in the message.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
