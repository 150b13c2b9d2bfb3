/** Waiting for a service's health URL to answer 200: the one health poller of the harness and the tools. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface LookOptions {
  /** How long one request may take. Default 2 s. */
  timeoutMs?: number;
  /** A further check of a 2xx response (e.g. its body), for services whose 200 alone is not enough. */
  accept?: (response: Response) => Promise<boolean>;
}

/** One look: true when `url` answers 2xx (and `accept` agrees) within `timeoutMs`. */
export async function answers(url: string, options: LookOptions = {}): Promise<boolean> {
  const { timeoutMs = 2_000, accept } = options;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const ok = response.ok && (accept ? await accept(response) : true);
    await response.body?.cancel().catch(() => {});
    return ok;
  } catch {
    return false;
  }
}

export interface WaitOptions extends LookOptions {
  /** Rejects with its reason when aborted (callers abort it when the service exits). */
  signal?: AbortSignal;
  /** How often to look. Default 50 ms. */
  pollMs?: number;
}

/** Resolves once `url` answers; rejects with the signal's reason when it aborts. Never gives up on its own. */
export async function waitForHealth(url: string, options: WaitOptions = {}): Promise<void> {
  const { signal, pollMs = 50, ...look } = options;
  for (;;) {
    signal?.throwIfAborted();
    if (await answers(url, look)) return;
    await sleep(pollMs, undefined, signal ? { signal } : {});
  }
}
