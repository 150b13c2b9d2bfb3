/** Command-line helpers the benchmarks share. */

/** The items a comma-separated `--flag a,b` names (all when absent); an unknown name is an error listing the known ones. */
export function pick<T extends { id: string }>(all: readonly T[], list: string | undefined, flag: string): T[] {
  if (!list) return [...all];
  const ids = list.split(',').map((s) => s.trim());
  const unknown = ids.filter((id) => !all.some((item) => item.id === id));
  if (unknown.length > 0) throw new Error(`${flag}: unknown ${unknown.join(', ')}; expected some of ${all.map((i) => i.id).join(', ')}`);
  return all.filter((item) => ids.includes(item.id));
}

/** A `--flag N` that must be a whole number of at least `min`. */
export function wholeNumber(text: string, flag: string, min = 0): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected a whole number${min > 0 ? ` of ${min} or more` : ''}, got ${JSON.stringify(text)}`);
  return n;
}

/** Runs a benchmark's main: exit 0 when it resolves, the message and exit 1 when it throws. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
