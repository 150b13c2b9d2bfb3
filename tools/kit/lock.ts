/**
 * A cross-process file lock: a directory created atomically with mkdir, holding its holder's pid. Used where
 * several processes may ask for the same thing at once (a llama-server build: vitest workers, the global setup
 * and `npm run llama:build`; one rehearsal at a time in the e2e tests); one holds it, the others wait. A lock
 * left by a holder that died (its pid is gone) is taken over.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './processes.js';

/** Who holds the lock when it is taken. */
export type LockResult = { acquired: true; release: () => Promise<void> } | { acquired: false; holder: number };

async function holderPid(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(lockDir, 'pid'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tries once to take the lock; a stale lock (dead holder) is removed and taken. `what` names it in the error
 * ("the build lock").
 */
export async function tryLock(lockDir: string, what = 'the lock'): Promise<LockResult> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      return { acquired: true, release: () => rm(lockDir, { recursive: true, force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = await holderPid(lockDir);
    if (pid === undefined) {
      // Just created by someone who has not written the pid yet, or left empty by a crash: look again shortly.
      await sleep(200);
      const again = await holderPid(lockDir);
      if (again !== undefined) return { acquired: false, holder: again };
    } else if (isAlive(pid) && pid !== process.pid) {
      return { acquired: false, holder: pid };
    }
    await rm(lockDir, { recursive: true, force: true });
  }
  throw new Error(`could not take ${what} ${lockDir}; remove it if nothing that takes it is running`);
}

/**
 * Waits until the lock's holder is done: the lock directory is gone or its holder died.
 * @param pollMs how often to look, in milliseconds. Default 2000 (a build holds it for minutes).
 */
export async function waitForUnlock(lockDir: string, signal?: AbortSignal, pollMs = 2000): Promise<void> {
  for (;;) {
    const pid = await holderPid(lockDir);
    if (pid === undefined || !isAlive(pid)) return;
    await sleep(pollMs, undefined, { signal });
  }
}
