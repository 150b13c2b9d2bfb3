/** Heap and resident memory, after a full GC when node runs with --expose-gc (else as they stand). */
export interface MemorySample {
  heapUsedMb: number;
  rssMb: number;
  /** True when a GC ran first, so the numbers are live memory rather than garbage not yet collected. */
  afterGc: boolean;
}

export function sampleMemory(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return { heapUsedMb: mb(heapUsed), rssMb: mb(rss), afterGc: gc !== undefined };
}

/**
 * Resolves once no timer is pending (or after `capMs`). A closed session can leave a framework timer of a couple
 * of seconds behind, and a pending timer keeps what its async context holds (the whole session) reachable: to
 * measure what truly outlives a run, sample after those have fired.
 */
export async function timersSettled(capMs = 10_000): Promise<void> {
  const until = Date.now() + capMs;
  while (process.getActiveResourcesInfo().includes('Timeout') && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
