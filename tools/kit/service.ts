/**
 * Starting a service and knowing it is ready, written once for everything that serves: the fake, the agent and
 * llama-server as child processes (the scenario runner, tests, benchmarks), and the container stack. While it
 * waits it says so every 10 s; on any failure what was started is stopped again and the error (a StartError)
 * carries the service's last output, which usually says why.
 *
 * This kit lives in tools/, beside tools/llama and tools/containers, not in contract/: contract/ is what the
 * three rooms share about scenarios and events, and none of them needs to know how processes are supervised.
 * The harness, the tools and the tests import it; the agent and the fake do not.
 */
import { Child, describeExit, type ChildSpec } from './child.js';
import { waitForHealth, type LookOptions } from './health.js';
import { outputBlock } from './output-tail.js';
import { StartError } from './start-error.js';

export interface Started {
  child: Child;
  /** Root URL of the service. */
  url: string;
}

/** How often a slow start says it is still waiting. */
const STILL_WAITING_EVERY_MS = 10_000;

/** Says "waiting for <what> to be ready (N s)" every 10 s until the returned function is called. */
export function stillWaiting(what: string, progress: ((line: string) => void) | undefined): () => void {
  if (!progress) return () => {};
  const started = Date.now();
  const ticker = setInterval(() => progress(`waiting for ${what} to be ready (${Math.round((Date.now() - started) / 1000)} s)`), STILL_WAITING_EVERY_MS);
  return () => clearInterval(ticker);
}

export interface StartOptions {
  /** Progress lines while it waits. */
  progress?: (line: string) => void;
}

/**
 * Spawns a service and resolves once `ready` says where it answers. On any failure the child is stopped and the
 * error is a StartError with its last output (an abort keeps its own reason).
 */
export async function startService(spec: ChildSpec, ready: (child: Child) => Promise<string>, options: StartOptions = {}): Promise<Started> {
  const child = await Child.spawn(spec);
  const done = stillWaiting(child.name, options.progress);
  try {
    return { child, url: await ready(child) };
  } catch (error) {
    await child.stop();
    throw withOutput(child, error);
  } finally {
    done();
  }
}

export interface HealthyOptions extends LookOptions {
  /** Gives up after this long. */
  timeoutMs: number;
  /** Aborting rejects with its reason. */
  signal?: AbortSignal;
  /** How often to look. Default 50 ms. */
  pollMs?: number;
}

/**
 * Resolves once `child` answers `healthUrl`. Rejects when it exits first, when `timeoutMs` passes (both name the
 * service and `url`, its root), or with the reason of `signal`.
 */
export async function healthy(child: Child, url: string, healthUrl: string, options: HealthyOptions): Promise<void> {
  const { timeoutMs, signal, ...look } = options;
  const what = `${child.name} on ${url}`;
  const gone = new AbortController();
  const onAbort = () => gone.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => gone.abort(new Error(`${what} was not healthy after ${duration(timeoutMs)}`)), timeoutMs);
  void child.exited.then((exit) => gone.abort(new Error(`${what} exited ${describeExit(exit)} before it was healthy`)));
  try {
    await waitForHealth(healthUrl, { ...look, signal: gone.signal });
  } catch (error) {
    throw gone.signal.aborted ? gone.signal.reason : error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The start failure with the child's last output (secrets masked), as a StartError; an abort passes unchanged. */
function withOutput(child: Child, error: unknown): unknown {
  if (!(error instanceof Error) || error.name === 'AbortError') return error;
  const output = child.output();
  return new StartError(`${error.message}${outputBlock('Last output', output)}`, { output, cause: error });
}

/** "500 ms", "90 s". */
function duration(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`;
}
