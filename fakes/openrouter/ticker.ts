/**
 * One timer for every wait due in the same wall millisecond. 200 streams at 50 tokens/s are 10,000 waits a second,
 * and the clock's `sleep` gave each its own promise chain, setTimeout, closure and AbortSignal listener (added and
 * removed again per token). `node --cpu-prof` on the fake during `bench:fake`'s 200 streams showed its event loop
 * saturated (9-10 ms busy in every 10 ms) from the first tokens on, the timer and listener work beside the socket
 * writes, so the later streams' first tokens went out late. Here a wait joins the bucket of its due wall
 * millisecond (rounded up: it never wakes early) and one timer per bucket wakes them all, in the order they joined.
 * Hand-written: a timer wheel library would bring its own tick and cancellation for this small a job.
 */
interface Bucket {
  wakes: Set<() => void>;
  timer: NodeJS.Timeout | undefined;
}

export class Ticker {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Calls `wake` at wall instant `atEpochMs` (epoch ms), not before. Returns a function that cancels it. */
  at(atEpochMs: number, wake: () => void): () => void {
    const key = Math.ceil(atEpochMs);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { wakes: new Set(), timer: undefined };
      this.buckets.set(key, bucket);
      this.arm(key, bucket);
    }
    const joined = bucket;
    joined.wakes.add(wake);
    return () => {
      joined.wakes.delete(wake);
      // No timer outlives its last wait (a closing server must not wait for a keep-alive due in 10 s).
      if (joined.wakes.size === 0 && this.buckets.get(key) === joined) {
        clearTimeout(joined.timer);
        this.buckets.delete(key);
      }
    };
  }

  /** Timers running: one per wall millisecond with a wait due. */
  get timers(): number {
    return this.buckets.size;
  }

  private arm(key: number, bucket: Bucket): void {
    bucket.timer = setTimeout(() => {
      // Node's timers may fire up to a millisecond early.
      if (this.now() < key) return this.arm(key, bucket);
      this.buckets.delete(key);
      for (const wake of bucket.wakes) wake();
    }, Math.max(0, key - this.now()));
  }
}
