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
import { Quiet } from './quiet.js';
import { claimTime, releaseTime, settledOrStuck, VirtualTime } from './virtual-time.js';

export { STUCK_AFTER_MS } from './virtual-time.js';

export class AutoClock extends VirtualTime {
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
    super(originEpochMs);
  }

  protected override scheduled(): void {
    this.wake?.();
  }

  /** Starts moving time (idempotent). */
  start(): this {
    if (!this.driving) {
      claimTime(this);
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
    releaseTime(this);
  }

  private async drive(): Promise<void> {
    const signal = this.stopping.signal;
    const quiet = this.quiet as Quiet;
    while (!signal.aborted) {
      await settledOrStuck(quiet, signal, this.onStuck);
      if (this.timers.length === 0) {
        // Idle with nothing scheduled: wait until something schedules (a request, a turn) and settle again.
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      this.fireNext();
    }
  }
}
