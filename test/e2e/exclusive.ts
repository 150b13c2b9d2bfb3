/**
 * One rehearsal at a time on this machine: vitest runs test files in parallel (two workers on two cores), and
 * two rehearsals side by side would steal each other's CPU and stretch the latencies the scenarios' windows
 * allow for. A directory is the lock (mkdir is atomic); a lock left by a dead process is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../tools/llama/processes.js';

const LOCK = join(tmpdir(), 'holdline-e2e-rehearsal.lock');
const POLL_MS = 100;

export async function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  await acquire();
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

async function acquire(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (holderGone()) rmSync(LOCK, { recursive: true, force: true });
    else await sleep(POLL_MS);
  }
}

function holderGone(): boolean {
  try {
    return !isAlive(Number(readFileSync(join(LOCK, 'pid'), 'utf8')));
  } catch {
    return false; // the holder is between mkdir and writing its pid
  }
}
