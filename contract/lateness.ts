/**
 * How long a process could not run. At `--speed N` one wall millisecond the process spends descheduled (a busy
 * machine) or blocked is N scenario milliseconds by which everything it does comes late. A rehearsal's timing
 * check may only forgive a late utterance when the processes measured that much lateness between its cause
 * and its start (see harness/check/lateness.ts); it never widens a window on a quiet machine.
 *
 * The measure: a probe timer asks to run every PROBE_MS and notes how much later than asked it ran. A run that
 * is `late` ms late means the process could not run during the `late` ms before it, a stall. Node's timers fire
 * up to a millisecond late on an idle machine, so the first NOISE_MS of every delay is not counted.
 *
 * Hand-written because `perf_hooks.monitorEventLoopDelay` gives a histogram, not when the delays happened, and
 * the check needs "how much stall between these two instants".
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** One stall: `[endEpochMs, lateMs]`, the process could not run during the `lateMs` before `endEpochMs`. */
export type Stall = [number, number];

export const PROBE_MS = 10;
export const NOISE_MS = 2;
/** Stalls kept (a ring): at one per probe this is over ten minutes of a fully loaded machine. */
export const MAX_STALLS = 65_536;

export class LatenessMeter {
  /** Names this process's meter, so a runner that hears from the same process twice counts it once. */
  readonly id = randomUUID();
  private readonly ends = new Float64Array(MAX_STALLS);
  private readonly lates = new Float64Array(MAX_STALLS);
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Starts probing (idempotent). The probe never keeps the process alive. */
  start(): this {
    if (this.timer) return this;
    let expected = performance.now() + PROBE_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = now - expected - NOISE_MS;
      // setInterval re-arms from when the callback runs, so the next run is due PROBE_MS from now.
      expected = now + PROBE_MS;
      // Stamped with Date.now(), the clock the runner's windows use (performance.timeOrigin drifts from it).
      if (late > 0) this.record(Date.now(), late);
    }, PROBE_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  record(endEpochMs: number, lateMs: number): void {
    const i = this.count % MAX_STALLS;
    this.ends[i] = endEpochMs;
    this.lates[i] = lateMs;
    this.count++;
  }

  /** The stalls that ended at or after `sinceEpochMs`, oldest first, rounded to 0.1 ms (for the wire). */
  since(sinceEpochMs: number): Stall[] {
    const out: Stall[] = [];
    for (let k = Math.max(0, this.count - MAX_STALLS); k < this.count; k++) {
      const i = k % MAX_STALLS;
      const end = this.ends[i] ?? 0;
      if (end >= sinceEpochMs) out.push([Math.round(end * 10) / 10, Math.round((this.lates[i] ?? 0) * 10) / 10]);
    }
    return out;
  }
}

/** Wall ms of stall inside `[fromEpochMs, toEpochMs]`: each stall counts only where it overlaps the window. */
export function stalledBetween(stalls: readonly Stall[], fromEpochMs: number, toEpochMs: number): number {
  let total = 0;
  for (const [end, late] of stalls) {
    const overlap = Math.min(end, toEpochMs) - Math.max(end - late, fromEpochMs);
    if (overlap > 0) total += overlap;
  }
  return total;
}

/** What `GET .../lateness?since=` answers. */
export interface LatenessReport {
  id: string;
  stalls: Stall[];
}

export function latenessReport(meter: LatenessMeter, sinceEpochMs: number): LatenessReport {
  return { id: meter.id, stalls: meter.since(sinceEpochMs) };
}

/** Parses a report from the wire, dropping any stall that is not a pair of finite non-negative numbers. */
export function parseLatenessReport(value: unknown): LatenessReport | undefined {
  const { id, stalls } = (value ?? {}) as { id?: unknown; stalls?: unknown };
  if (typeof id !== 'string' || !Array.isArray(stalls)) return undefined;
  return {
    id,
    stalls: stalls.flatMap((s: unknown) =>
      Array.isArray(s) && s.length === 2 && s.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0) ? [[s[0], s[1]] as Stall] : [],
    ),
  };
}

/** This process's meter, started on first use: one probe per process whatever asks. */
let shared: LatenessMeter | undefined;
export function processLateness(): LatenessMeter {
  shared ??= new LatenessMeter().start();
  return shared;
}

/** `?since=<epoch ms>` of a lateness request; undefined when missing or not a finite number. */
export function sinceParam(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}
