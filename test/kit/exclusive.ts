/**
 * One rehearsal at a time on this machine: vitest runs test files in parallel (two workers on two cores), and
 * two rehearsals side by side would steal each other's CPU and stretch the latencies the scenarios' windows
 * allow for. The lock is fair, first come first served: each waiter takes a ticket (a file named by its arrival
 * time), and only the oldest ticket may take the lock (the process kit's file lock, tools/kit/lock.ts). A file
 * that runs one rehearsal after another therefore cannot starve another file's waiting test. Tickets and locks
 * left by dead processes are cleared. Shared by every test that rehearses, packs or builds images.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLock } from '../../tools/kit/lock.js';
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
    const release = await acquire(ticket);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    rmSync(join(QUEUE, ticket), { force: true });
  }
}

/** Waits for `ticket`'s turn, then takes the lock (the process kit's file lock: a holder that died is taken over). */
async function acquire(ticket: string): Promise<() => Promise<void>> {
  for (;;) {
    if (firstInQueue() === ticket) {
      const lock = await tryLock(LOCK, 'the rehearsal lock');
      if (lock.acquired) return lock.release;
    }
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
