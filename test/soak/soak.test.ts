/**
 * A short soak in `npm test`: 100 turns of a fixed random fault schedule (bench/soak), every invariant checked
 * on every turn. The full run is `npm run soak -- --turns 1000`.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak/run.js';
import { summary } from '../../bench/soak/summary.js';

describe('soak', () => {
  it('100 turns through random faults: every turn answered or apologised, nothing leaked, the session open', async () => {
    const report = await runSoak({ turns: 100, seed: 42, speed: 50 });
    expect(report.failures, summary(report)).toEqual([]);
    expect(report.turns).toBe(100);
    // The schedule really did hurt: faults were met, and the caller heard the hold or the apology. (How many
    // varies a little run to run: rate-limit resets fall on wall-clock minute boundaries.)
    expect(report.requests.failed).toBeGreaterThanOrEqual(10);
    expect(report.answers).toBeGreaterThan(50);
    expect(report.apologies + report.holds).toBeGreaterThan(0);
  }, 110_000);
});
