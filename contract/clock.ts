/**
 * Scenario time. Every delay in holdline (the fake's ttft and windows, the agent's deadlines, backoff and
 * playback) goes through one Clock, so `--speed N` compresses an outage N times with the same results, and
 * unit tests run on virtual time without sleeping.
 *
 * `now()` is scenario milliseconds since the clock's origin. With speed N, one wall millisecond is N scenario
 * milliseconds. Processes that must agree on scenario time (the fake and the rehearsal agent) are reset to the
 * same wall-clock origin (`resetTo(epochMs)`), so their timestamps line up without exchanging messages.
 */
export interface Clock {
  /** Scenario milliseconds since the origin. */
  now(): number;
  /** Resolves after `ms` scenario milliseconds; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms` scenario milliseconds; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
  /** Scenario milliseconds of a wall-clock instant (epoch ms), e.g. a provider's X-RateLimit-Reset. */
  fromEpochMs(epochMs: number): number;
  /** Wall-clock instant (epoch ms) of a scenario instant. */
  toEpochMs(scenarioMs: number): number;
}

/**
 * The clock a rehearsal's processes share: scenario time plus the origin they agree on. Two kinds: ScaledClock
 * (wall time times `speed`, to watch live) and AutoClock (time/auto-clock.ts: skips idle time, `speed` Infinity).
 */
export interface RehearsalClock extends Clock {
  readonly speed: number;
  /** The wall-clock instant (epoch ms) scenario time 0 stands for. */
  readonly origin: number;
  /** Scenario time 0 is now, standing for `epochMs`. */
  resetTo(epochMs?: number): void;
}

/**
 * How far from now a shared origin (`POST /reset {"at"}`) may lie. Processes share scenario time 0 to start a
 * rehearsal together, a moment from now; an instant years away (or 1e300) would make every deadline fire at once
 * or never, and is a mistake in the caller.
 */
export const ORIGIN_MAX_DISTANCE_MS = 24 * 60 * 60 * 1000;

/** Why `at` cannot be scenario time 0 (a reason to show), or undefined when it can. */
export function originProblem(at: unknown, nowEpochMs = Date.now()): string | undefined {
  if (typeof at === 'number' && Number.isFinite(at) && Math.abs(at - nowEpochMs) <= ORIGIN_MAX_DISTANCE_MS) return undefined;
  const shown = typeof at === 'number' ? String(at) : (JSON.stringify(at) ?? String(at)).slice(0, 40);
  return `expected "at" in epoch ms within 24 hours of now (${nowEpochMs}), got ${shown}`;
}

export class ScaledClock implements Clock {
  private originEpochMs: number;

  constructor(
    readonly speed = 1,
    originEpochMs = Date.now(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be a positive number, got ${speed}`);
    this.originEpochMs = originEpochMs;
  }

  /** Scenario time 0 is this wall-clock instant (epoch ms). */
  resetTo(epochMs = Date.now()): void {
    this.originEpochMs = epochMs;
  }

  get origin(): number {
    return this.originEpochMs;
  }

  now(): number {
    return (Date.now() - this.originEpochMs) * this.speed;
  }

  /** Wall milliseconds for a scenario duration. */
  toWallMs(scenarioMs: number): number {
    return Math.max(0, scenarioMs / this.speed);
  }

  toEpochMs(scenarioMs: number): number {
    return this.originEpochMs + scenarioMs / this.speed;
  }

  fromEpochMs(epochMs: number): number {
    return (epochMs - this.originEpochMs) * this.speed;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /**
   * Never fires before its scenario instant: Node's timers may wake up to a wall millisecond early (ten
   * scenario ms at speed 10), and code that waited for a cooldown's end must find it over when it wakes.
   */
  schedule(fn: () => void, ms: number): () => void {
    const due = this.now() + Math.max(0, ms);
    let timer: NodeJS.Timeout;
    const arm = (wallMs: number) => {
      timer = setTimeout(() => {
        const early = due - this.now();
        if (early > 0) arm(Math.max(1, Math.ceil(this.toWallMs(early))));
        else fn();
      }, wallMs);
    };
    arm(this.toWallMs(ms));
    return () => clearTimeout(timer);
  }
}

/**
 * A clock that moves only when told to. `advance(ms)` runs due timers in time order, each seeing `now()` equal
 * to its own due time, so code under test observes exactly the instants it asked for.
 */
export class VirtualClock implements Clock {
  private current = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  /** `epochOriginMs` is the wall-clock instant of scenario time 0, for `fromEpochMs`/`toEpochMs`. */
  constructor(
    start = 0,
    readonly epochOriginMs = 0,
  ) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  fromEpochMs(epochMs: number): number {
    return epochMs - this.epochOriginMs;
  }

  toEpochMs(scenarioMs: number): number {
    return this.epochOriginMs + scenarioMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Time of the next timer, if any. */
  get nextAt(): number | undefined {
    return this.timers.reduce<number | undefined>((min, t) => (min === undefined || t.at < min ? t.at : min), undefined);
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Awaits a macrotask turn after each timer so the
   * promise chains it resumes can settle (and schedule further timers) before time moves on.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = due.at;
      due.fn();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Advances straight to the next timer (if any) and fires it. */
  async advanceToNext(): Promise<void> {
    const at = this.nextAt;
    if (at !== undefined) await this.advance(at - this.current);
  }
}

function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `sleep` for any clock, on its own `schedule`: resolves after `ms`, rejects with the signal's reason when aborted. */
export function sleepWith(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.schedule(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
