/** Percentiles for benchmark reports (nearest rank: the reported value is one that was observed). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Rounded for the report: 0.01 ms is below what loopback timing can tell apart. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function summary(values: readonly number[]): { p50: number; p99: number } {
  return { p50: round2(percentile(values, 50)), p99: round2(percentile(values, 99)) };
}
