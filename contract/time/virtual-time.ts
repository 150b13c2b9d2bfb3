/**
 * What every clock that skips idle time shares: scenario time as a number that only moves when told, the
 * calendar origin it stands for, and timers kept in (due, scheduled) order. AutoClock (one process) and
 * SharedClock (several processes, one coordinator) differ only in who decides that everything waits.
 */
import { sleepWith, type RehearsalClock } from '../clock.js';
import type { Quiet } from './quiet.js';

/** Wall ms a process may stay busy before the clock says what keeps it (a rehearsal that can never move on). */
export const STUCK_AFTER_MS = 30_000;

/** One clock that skips idle time moves it per process: two would each take the other's checks for work and neither would move. */
const moving = new Set<object>();

export function claimTime(clock: object): void {
  if (moving.size > 0) throw new Error('another clock is already moving time in this process; stop it first');
  moving.add(clock);
}

export function releaseTime(clock: object): void {
  moving.delete(clock);
}

/** Resolves once the process is idle (quiet.ts); `onStuck` hears what keeps it busy after STUCK_AFTER_MS of wall time. */
export async function settledOrStuck(quiet: Quiet, signal: AbortSignal, onStuck: (why: string[]) => void): Promise<void> {
  const watchdog = quiet.quietly(() => setTimeout(() => onStuck(quiet.busyWith()), STUCK_AFTER_MS));
  watchdog.unref();
  try {
    await quiet.settled(signal);
  } finally {
    clearTimeout(watchdog);
  }
}

export interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export abstract class VirtualTime implements RehearsalClock {
  /** Not a multiple of wall time: the journal and health pages show it as `virtual`. */
  readonly speed = Number.POSITIVE_INFINITY;
  protected current = 0;
  private zero = 0;
  private originEpochMs: number;
  private seq = 0;
  protected timers: Timer[] = [];

  constructor(originEpochMs = Date.now()) {
    this.originEpochMs = originEpochMs;
  }

  now(): number {
    return this.current - this.zero;
  }

  get origin(): number {
    return this.originEpochMs;
  }

  /** Scenario time 0 is now; `epochMs` is the calendar instant it stands for (Retry-After dates, resets). */
  resetTo(epochMs = Date.now()): void {
    this.zero = this.current;
    this.originEpochMs = epochMs;
  }

  fromEpochMs(epochMs: number): number {
    return epochMs - this.originEpochMs;
  }

  toEpochMs(scenarioMs: number): number {
    return this.originEpochMs + scenarioMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  schedule(fn: () => void, ms: number): () => void {
    // A NaN or infinite delay would poison `current` for good: treat it as now.
    const timer = { at: this.current + (Number.isFinite(ms) ? Math.max(0, ms) : 0), seq: this.seq++, fn };
    // Kept sorted by (at, seq): timers are few (a rehearsal has tens), so an insertion beats a heap here.
    const i = this.timers.findIndex((t) => t.at > timer.at);
    if (i === -1) this.timers.push(timer);
    else this.timers.splice(i, 0, timer);
    this.scheduled();
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Called after every `schedule`. */
  protected scheduled(): void {}

  /** Moves time to the earliest timer if it is due by `at` (any, when omitted) and runs it. */
  protected fireNext(at = Number.POSITIVE_INFINITY): void {
    const next = this.timers[0];
    if (!next || next.at > at) return;
    this.timers.shift();
    this.current = Math.max(this.current, next.at);
    try {
      next.fn();
    } catch (error) {
      // As a throwing setTimeout callback would: an uncaught exception, not a clock that silently stops.
      process.nextTick(() => {
        throw error;
      });
    }
  }
}
