/**
 * Scenario time that skips idle time: it stands still while anything in the process is working or in flight,
 * and when the process is idle (quiet.ts) it jumps straight to the earliest timer. A 60 s outage that is mostly
 * waiting (Retry-After, backoff, a hung stream) takes as long as the work in it, and the same scenario gives the
 * same instants on a quiet machine and a loaded one: a busy CPU delays the work, never the clock relative to it.
 *
 * Timers due at the same instant fire in the order they were set, one at a time, each after the work the
 * previous one started has settled. The anchors: Tokio's paused clock with auto-advance, Temporal's
 * time-skipping test server, @sinonjs/fake-timers' `runAllAsync` (which does not know about I/O).
 *
 * One AutoClock serves every participant in one process (the fake, the agent, the runner); `start()` runs its
 * driver until `stop()`.
 */
import { sleepWith, type Clock } from '../clock.js';
import { Quiet } from './quiet.js';

/** Wall ms a process may stay busy before the clock says what keeps it (a rehearsal that can never move on). */
export const STUCK_AFTER_MS = 30_000;
/** One AutoClock moves time per process: two would each take the other's checks for work and neither would move. */
const moving = new Set<AutoClock>();

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class AutoClock implements Clock {
  /** Not a multiple of wall time: the journal and health pages show it as `virtual`. */
  readonly speed = Number.POSITIVE_INFINITY;
  private current = 0;
  private zero = 0;
  private originEpochMs: number;
  private seq = 0;
  private timers: Timer[] = [];
  private wake: (() => void) | undefined;
  private driving: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private quiet: Quiet | undefined;

  /**
   * @param onStuck called (once per stretch) when the process has not been idle for STUCK_AFTER_MS of wall time,
   *   with what keeps it busy; the inline stack reports it as a failed rehearsal.
   */
  constructor(
    originEpochMs = Date.now(),
    private readonly onStuck: (why: string[]) => void = () => {},
  ) {
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
    this.wake?.();
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Starts moving time (idempotent). */
  start(): this {
    if (!this.driving) {
      if (moving.size > 0) throw new Error('another AutoClock is already moving time in this process; stop it first');
      moving.add(this);
      this.quiet = new Quiet();
      this.driving = this.drive().catch(() => {});
    }
    return this;
  }

  /** Stops moving time; pending timers stay unfired. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the clock stopped'));
    this.wake?.();
    await this.driving;
    this.quiet?.close();
    moving.delete(this);
  }

  private async drive(): Promise<void> {
    const signal = this.stopping.signal;
    const quiet = this.quiet as Quiet;
    while (!signal.aborted) {
      const watchdog = setTimeout(() => this.onStuck(quiet.busyWith()), STUCK_AFTER_MS);
      watchdog.unref();
      try {
        await quiet.settled(signal);
      } finally {
        clearTimeout(watchdog);
      }
      const next = this.timers[0];
      if (!next) {
        // Idle with nothing scheduled: wait until something schedules (a request, a turn) and settle again.
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
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
}
