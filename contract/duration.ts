/**
 * Durations in scenario files and CLI flags are strings with a unit: `250ms`, `8s`, `1.5s`, `1m`.
 * A bare number is rejected on purpose: "2" could mean seconds or milliseconds, and a rehearsal that
 * silently waits 1000x too long is worse than an error.
 */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** Milliseconds for a duration string, or undefined when the string is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
}

/** Shortest exact rendering: 1500 -> "1.5s", 60000 -> "1m", 250 -> "250ms". */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms}ms`;
}

/** Longest rendering of a value quoted back in an error message, characters. */
export const QUOTE_MAX_CHARS = 80;

/**
 * How a non-duration value is shown back in an error message: strings quoted, everything else as JSON; always
 * one line (JSON escapes newlines and control characters) and at most `QUOTE_MAX_CHARS`, so a whole file that is
 * not a scenario, or a megabyte of request text, is never echoed back.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value); // a cycle or a BigInt
  }
  return text.length <= QUOTE_MAX_CHARS ? text : `${text.slice(0, QUOTE_MAX_CHARS)}... (${text.length} characters)`;
}
