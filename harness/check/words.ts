/** How times, windows and texts are written in the runner's messages. */
import { formatDuration } from '../../contract/duration.js';

/** Scenario ms as seconds, as precise as it is and no more: 61200 -> "61.2s", 7960 -> "7.96s", 8000 -> "8s". */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))}s`;
}

/** Scenario ms as a fixed-width clock reading for timeline columns: 420 -> "0.42s", 61200 -> "61.20s". */
export function clock(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** A start window as written in a scenario: [8000, 10000] -> "8s..10s". */
export function windowText([from, until]: readonly [number, number]): string {
  return `${formatDuration(from)}..${formatDuration(until)}`;
}

/** Whitespace runs become one space, ends trimmed: how spoken texts are compared. */
export function normalizeText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** "1 request", "3 requests". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
