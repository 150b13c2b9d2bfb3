/** Waiting for llama-server to answer `GET /health` with 200 {"status":"ok"} (503 while it loads the model). */
import { setTimeout as sleep } from 'node:timers/promises';

/** One look at /health: true when the server is up and has its model loaded. */
export async function isHealthy(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) return false;
    const body = (await response.json()) as { status?: unknown };
    return body.status === 'ok';
  } catch {
    return false;
  }
}

/**
 * Resolves once /health is ok. Looks every `pollMs` (default 25 ms: a tiny model is ready in ~40 ms) and
 * rejects when `signal` aborts (the caller aborts it on timeout or when the server exits).
 */
export async function waitUntilHealthy(url: string, signal: AbortSignal, pollMs = 25): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (await isHealthy(url)) return;
    await sleep(pollMs, undefined, { signal });
  }
}
