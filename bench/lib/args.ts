/** Command-line helpers the benchmarks share. */

/** The items a comma-separated `--flag a,b` names (all when absent); an unknown name is an error listing the known ones. */
export function pick<T extends { id: string }>(all: readonly T[], list: string | undefined, flag: string): T[] {
  if (!list) return [...all];
  const ids = list.split(',').map((s) => s.trim());
  const unknown = ids.filter((id) => !all.some((item) => item.id === id));
  if (unknown.length > 0) throw new Error(`${flag}: unknown ${unknown.join(', ')}; expected some of ${all.map((i) => i.id).join(', ')}`);
  return all.filter((item) => ids.includes(item.id));
}
