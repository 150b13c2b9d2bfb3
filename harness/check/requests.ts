/**
 * `expect.requests`: how many chat completion requests the fake received per model glob (min, max, count).
 * The journal is the fake's, so this is what OpenRouter would have seen, independent of what the agent says
 * it did.
 */
import { matchesGlob } from '../../contract/glob.js';
import type { RequestExpectation } from '../../contract/scenario/schema.js';
import { plural, seconds } from './words.js';

/** One chat completion request, as the fake journaled it. `at` is scenario ms. */
export interface RequestSeen {
  at: number;
  model: string;
  /** A status code as a string ("429") or a fault kind ("hang", "disconnect"...). */
  outcome: string;
}

/** How many of the matching requests a message lists before "...". */
const LISTED = 8;

export function checkRequests(expected: readonly RequestExpectation[], requests: readonly RequestSeen[]): string[] {
  return expected.flatMap((want) => {
    const seen = requests.filter((r) => matchesGlob(want.model, r.model));
    const n = seen.length;
    const ok =
      (want.count === undefined || n === want.count) && (want.min === undefined || n >= want.min) && (want.max === undefined || n <= want.max);
    if (ok) return [];
    return [`requests to ${JSON.stringify(want.model)}: expected ${expectedCount(want)}, got ${n}${listed(seen)}`];
  });
}

/** "exactly 1 request", "at least 2 requests", "1 to 3 requests", "at most 0 requests". */
export function expectedCount(want: RequestExpectation): string {
  const parts: string[] = [];
  if (want.count !== undefined) parts.push(`exactly ${plural(want.count, 'request')}`);
  if (want.min !== undefined && want.max !== undefined) parts.push(`${want.min} to ${want.max} requests`);
  else if (want.min !== undefined) parts.push(`at least ${plural(want.min, 'request')}`);
  else if (want.max !== undefined) parts.push(`at most ${plural(want.max, 'request')}`);
  return parts.join(' and ');
}

/** " (0.06s 429, 2.08s 429, ...)" */
function listed(seen: readonly RequestSeen[]): string {
  if (seen.length === 0) return '';
  const shown = seen.slice(0, LISTED).map((r) => `${seconds(r.at)} ${r.outcome}`);
  return ` (${shown.join(', ')}${seen.length > LISTED ? ', ...' : ''})`;
}
