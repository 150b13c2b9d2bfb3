/** Small summaries for a handful of samples (a benchmark's turns): median and max, undefined when empty. */
export interface Spread {
  median: number;
  max: number;
  n: number;
}

export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median: Math.round(median), max: Math.round(sorted.at(-1) as number), n: sorted.length };
}
