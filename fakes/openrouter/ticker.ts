/**
 * One timer for every wait due in the same instant. 200 streams at 50 tokens/s are 10,000 waits a second,
 * and the clock's `sleep` gave each its own promise chain, setTimeout, closure and AbortSignal listener (added and
 * removed again per token). `node --cpu-prof` on the fake during `bench:fake`'s 200 streams showed its event loop
 * saturated (9-10 ms busy in every 10 ms) from the first tokens on, the timer and listener work beside the socket
 * writes, so the later streams' first tokens went out late. Here a wait joins the bucket of its due instant and
 * one timer of the clock per bucket wakes them all, in the order they joined.
 *
 * A bucket is one wall millisecond: on a ScaledClock at speed N, N scenario ms (rounded up, so a wait never
 * wakes early); on virtual time (an AutoClock, speed Infinity), one scenario ms. The timers are the clock's, so
 * the fake keeps its one notion of time whatever the clock.
 * Hand-written: a timer wheel library would bring its own tick and cancellation for this small a job.
 */
import type { Clock } from '../../contract/clock.js';

interface Bucket {
  wakes: Set<() => void>;
  cancel: (() => void) | undefined;
}

export class Ticker {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly clock: Clock & { readonly speed: number }) {}

  /** Calls `wake` at scenario instant `atMs`, not before. Returns a function that cancels it. */
  at(atMs: number, wake: () => void): () => void {
    const step = Number.isFinite(this.clock.speed) ? Math.max(1, this.clock.speed) : 1;
    const key = Math.ceil(atMs / step) * step;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const made: Bucket = { wakes: new Set(), cancel: undefined };
      made.cancel = this.clock.schedule(() => {
        this.buckets.delete(key);
        for (const w of made.wakes) w();
      }, key - this.clock.now());
      this.buckets.set(key, made);
      bucket = made;
    }
    const joined = bucket;
    joined.wakes.add(wake);
    return () => {
      joined.wakes.delete(wake);
      // No timer outlives its last wait (a closing server must not wait for a keep-alive due in 10 s).
      if (joined.wakes.size === 0 && this.buckets.get(key) === joined) {
        joined.cancel?.();
        this.buckets.delete(key);
      }
    };
  }

  /** Timers running: one per instant with a wait due. */
  get timers(): number {
    return this.buckets.size;
  }
}
