/**
 * `expect.spoken` is the exact sequence the caller heard: same count; each text equal after whitespace is
 * normalised; the source and the start window checked when the scenario gives them. Every difference is one
 * line in plain words, naming the position, what was expected and what was heard.
 */
import type { SpokenExpectation } from '../../contract/scenario/schema.js';
import { normalizeText, plural, seconds, windowText } from './words.js';

/**
 * How much scenario time the machine's stalls explain before an utterance that started at `startMs`
 * (check/lateness.ts). Without one, windows are exact.
 */
export type LatenessAllowance = (startMs: number) => number;

/** One utterance as the caller heard it. Times are scenario ms. */
export interface Heard {
  text: string;
  source: string;
  start: number;
  end: number;
  interrupted: boolean;
}

/**
 * `explained` (when given) receives one line per utterance that passed only because measured stalls explain
 * its lateness; `allowance` says how much they explain.
 */
export function checkSpoken(
  expected: readonly SpokenExpectation[],
  heard: readonly Heard[],
  allowance?: { latenessBefore: LatenessAllowance; describe: (missMs: number, explainedMs: number) => string; explained: string[] },
): string[] {
  const failures: string[] = [];
  if (expected.length !== heard.length) {
    failures.push(`spoken: expected ${plural(expected.length, 'utterance')}, heard ${heard.length}`);
  }
  for (let i = 0; i < Math.max(expected.length, heard.length); i++) {
    const want = expected[i];
    const got = heard[i];
    if (want && got && matches(want, got)) continue;
    let why = '';
    if (want && got && allowance && want.startMs && matches({ ...want, startMs: [want.startMs[0], Number.POSITIVE_INFINITY] }, got)) {
      const missMs = got.start - want.startMs[1];
      const explainedMs = allowance.latenessBefore(got.start);
      const reason = allowance.describe(missMs, explainedMs);
      if (missMs <= explainedMs) {
        allowance.explained.push(`spoken[${i}] started at ${seconds(got.start)}, ${reason}`);
        continue;
      }
      if (explainedMs > 0) why = ` (${reason}: not enough to explain it)`;
    }
    failures.push(`spoken[${i}]: expected ${want ? describeExpected(want) : 'nothing more'}, heard ${got ? describeHeard(got) : 'nothing'}${why}`);
  }
  return failures;
}

export function matches(want: SpokenExpectation, got: Heard): boolean {
  if (normalizeText(want.text) !== normalizeText(got.text)) return false;
  if (want.source !== undefined && want.source !== got.source) return false;
  if (want.startMs && (got.start < want.startMs[0] || got.start > want.startMs[1])) return false;
  return true;
}

/** `"Paris is the capital of France." from openrouter:x starting 8s..10s` */
export function describeExpected(want: SpokenExpectation): string {
  const from = want.source === undefined ? '' : ` from ${want.source}`;
  const when = want.startMs ? ` starting ${windowText(want.startMs)}` : '';
  return `${JSON.stringify(normalizeText(want.text))}${from}${when}`;
}

/** `"Sorry, I can't answer that right now." from apology at 61.2s` */
export function describeHeard(got: Heard): string {
  return `${JSON.stringify(normalizeText(got.text))} from ${got.source} at ${seconds(got.start)}${got.interrupted ? ' (cut off)' : ''}`;
}
