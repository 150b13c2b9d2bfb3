/**
 * The soak's fault schedule: a sequence of segments, each a few random faults (any kind, any place including
 * the local server, random windows and probabilities) played while the caller speaks 1 to 4 times, then a
 * turn after they cleared. Segment N is drawn from (seed, N) alone, so a failure is replayed from the seed.
 */
import { ruleLines, type Place } from '../../test/kit/fault-places.js';
import { seededRandom } from '../lib/random.js';
import { randomFault } from './random-faults.js';

type Target = Place | 'secondary' | 'local';
const TARGETS: readonly Target[] = ['primary', 'secondary', 'openrouter', 'local', 'everywhere'];

export interface Segment {
  index: number;
  /** Scenario ms from the segment's start until its last fault window closes. */
  lengthMs: number;
  /** `fake.rules` lines, with windows relative to the segment's start (`rulesAt` makes them absolute). */
  faults: { name: string; target: Target; fromMs: number; untilMs: number; probability?: number; lines: (startMs: number) => string[] }[];
  /** Scenario ms the caller pauses before each turn while the faults are on (one entry per turn). */
  pausesMs: number[];
}

export function segment(seed: number, index: number): Segment {
  const r = seededRandom(seed, index);
  const lengthMs = r.int(3, 40) * 1000;
  const faults = Array.from({ length: r.int(1, 3) }, () => {
    const sample = randomFault(r);
    const target = r.pick(TARGETS);
    // Most windows are open when the caller first speaks; the rest open a little later, mid-conversation.
    const fromMs = r.chance(0.6) ? 0 : r.int(0, Math.floor(lengthMs / 4));
    const untilMs = r.int(fromMs + 500, lengthMs);
    const probability = r.chance(0.4) ? Math.round((0.2 + r.next() * 0.8) * 100) / 100 : undefined;
    return {
      name: `${sample.name} at ${target}`,
      target,
      fromMs,
      untilMs,
      ...(probability !== undefined && { probability }),
      lines: (startMs: number) =>
        ruleLines(sample, target, { fromMs: startMs + fromMs, untilMs: startMs + untilMs, ...(probability !== undefined && { probability }) }),
    };
  });
  const turnsDuring = r.int(1, 4);
  return { index, lengthMs, faults, pausesMs: Array.from({ length: turnsDuring }, () => r.int(0, 3000)) };
}

/** The segment's rules, in order, with windows starting at scenario ms `startMs`. */
export function rulesAt(s: Segment, startMs: number): string[] {
  return s.faults.flatMap((f) => f.lines(startMs));
}

/** One line per fault, for a failure report. */
export function describeSegment(s: Segment): string {
  const faults = s.faults.map((f) => `${f.name} ${f.fromMs}-${f.untilMs} ms${f.probability !== undefined ? ` p=${f.probability}` : ''}`);
  return `segment ${s.index} (${s.lengthMs} ms): ${faults.join('; ')}`;
}
