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
