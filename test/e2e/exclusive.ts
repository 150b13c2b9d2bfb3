/**
 * One rehearsal at a time on this machine: vitest runs test files in parallel (two workers on two cores), and
 * two rehearsals side by side would steal each other's CPU and stretch the latencies the scenarios' windows
 * allow for. The lock is fair, first come first served: each waiter takes a ticket (a file named by its arrival
 * time), and only the oldest ticket may take the lock (a directory: mkdir is atomic). A file that runs one
 * rehearsal after another therefore cannot starve another file's waiting test. Tickets and locks left by dead
 * processes are cleared.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../tools/kit/processes.js';

const ROOT = join(tmpdir(), 'holdline-e2e-rehearsal');
const QUEUE = join(ROOT, 'queue');
const LOCK = join(ROOT, 'lock');
const POLL_MS = 100;
let tickets = 0;

export async function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(QUEUE, { recursive: true });
  const ticket = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${String(tickets++).padStart(6, '0')}`;
  writeFileSync(join(QUEUE, ticket), '');
  try {
    await acquire(ticket);
    try {
      return await fn();
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  } finally {
    rmSync(join(QUEUE, ticket), { force: true });
  }
}

async function acquire(ticket: string): Promise<void> {
  for (;;) {
    if (firstInQueue() === ticket && takeLock()) return;
    await sleep(POLL_MS);
  }
}

/** The oldest ticket whose process still lives (others are removed). */
function firstInQueue(): string | undefined {
  for (const name of readdirSync(QUEUE).sort()) {
    if (isAlive(Number(name.split('-')[1]))) return name;
    rmSync(join(QUEUE, name), { force: true });
  }
  return undefined;
}

function takeLock(): boolean {
  try {
    mkdirSync(LOCK);
    writeFileSync(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Two oldest tickets from the same millisecond may both try; a lock whose holder died is taken over.
  if (holderGone()) rmSync(LOCK, { recursive: true, force: true });
  return false;
}

function holderGone(): boolean {
  try {
    return !isAlive(Number(readFileSync(join(LOCK, 'pid'), 'utf8')));
  } catch {
    return false; // the holder is between mkdir and writing its pid
  }
}
