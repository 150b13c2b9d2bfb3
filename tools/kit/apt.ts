/**
 * apt-get as the tooling runs it on a Debian host (the engine's packages, redis-server for the tests). Another apt
 * may hold apt's locks for a while: an unattended upgrade, or a second tool installing at the same moment (`npm
 * test`'s Redis setup beside `containers:prepare`, as happened here). Waiting for it is right; failing is not.
 * `DPkg::Lock::Timeout` makes apt itself wait for dpkg's lock, but `apt-get update` ignores it for the package
 * lists' lock (apt 2.6 on Debian 12: it failed at once with a lock held), so a refusal that names a lock is tried
 * again, a few seconds apart (apt offers nothing to wait on), for at most `lockWaitMs`.
 */
import { exec, type RunOptions } from './run-command.js';

/** How long another apt may hold the locks before this gives up (an upgrade of a few packages takes a minute or two). */
export const APT_LOCK_WAIT_MS = 10 * 60_000;
const RETRY_MS = 3_000;
const LOCKED = /Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock/;

export interface AptOptions extends RunOptions {
  /** The command (tests). Default `apt-get`. */
  command?: string;
  lockWaitMs?: number;
  /** Waits between tries (tests). */
  pause?: (ms: number) => Promise<void>;
}

/** Runs `apt-get <args>` and resolves with its stdout; rejects with its last output when it fails for anything but a lock. */
export async function aptGet(args: readonly string[], options: AptOptions = {}): Promise<string> {
  const { command = 'apt-get', lockWaitMs = APT_LOCK_WAIT_MS, pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), ...run } = options;
  const full = ['-o', `DPkg::Lock::Timeout=${Math.ceil(lockWaitMs / 1000)}`, ...args];
  const started = Date.now();
  for (;;) {
    const result = await exec(command, full, run);
    if (result.code === 0) return result.stdout;
    const output = result.tail.join('\n');
    if (!LOCKED.test(output) || Date.now() - started >= lockWaitMs) {
      const why = result.error ? `could not run (${result.error.message})` : `exited with code ${result.code}`;
      throw new Error(`\`${command} ${args.join(' ')}\` ${why}. Last output:\n${output}`);
    }
    run.onLine?.(`another apt holds its lock: trying again in ${RETRY_MS / 1000} s`);
    await pause(RETRY_MS);
  }
}
