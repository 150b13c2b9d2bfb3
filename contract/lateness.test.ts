import { describe, expect, it } from 'vitest';
import { LatenessMeter, MAX_STALLS, parseLatenessReport, stalledBetween, type Stall } from './lateness.js';

describe('stalledBetween', () => {
  const stalls: Stall[] = [
    [1_000, 40], // could not run during 960..1000
    [2_000, 100], // 1900..2000
  ];

  it('counts each stall only where it overlaps the window', () => {
    expect(stalledBetween(stalls, 0, 5_000)).toBe(140);
    expect(stalledBetween(stalls, 980, 1_950)).toBe(20 + 50);
    expect(stalledBetween(stalls, 1_000, 1_900)).toBe(0);
    expect(stalledBetween([], 0, 1e12)).toBe(0);
  });
});

describe('LatenessMeter', () => {
  it('keeps the newest stalls in a bounded ring and answers those since an instant, oldest first', () => {
    const meter = new LatenessMeter();
    for (let i = 0; i < MAX_STALLS + 10; i++) meter.record(i, 1);
    const all = meter.since(0);
    expect(all).toHaveLength(MAX_STALLS);
    expect(all[0]).toEqual([10, 1]);
    expect(meter.since(MAX_STALLS + 8)).toEqual([
      [MAX_STALLS + 8, 1],
      [MAX_STALLS + 9, 1],
    ]);
  });

  it('measures a blocked event loop as a stall of about that length', async () => {
    const meter = new LatenessMeter().start();
    try {
      const since = Date.now();
      const blockedUntil = Date.now() + 80;
      while (Date.now() < blockedUntil); // the probe cannot run
      // Waits for the probe's report of the block (an event), however long the machine takes to run it.
      while (meter.since(since).length === 0) await new Promise((resolve) => setImmediate(resolve));
      const stalled = stalledBetween(meter.since(since), since, Date.now());
      expect(stalled).toBeGreaterThanOrEqual(50);
      expect(stalled).toBeLessThanOrEqual(Date.now() - since);
    } finally {
      meter.stop();
    }
  });
});

describe('parseLatenessReport', () => {
  it('keeps well-formed stalls and drops anything else', () => {
    expect(parseLatenessReport({ id: 'a', stalls: [[1, 2], [3, -1], [4], ['5', 6], [7, Number.NaN], [8, 9]] })).toEqual({ id: 'a', stalls: [[1, 2], [8, 9]] });
    expect(parseLatenessReport({ stalls: [] })).toBeUndefined();
    expect(parseLatenessReport('nope')).toBeUndefined();
    expect(parseLatenessReport(null)).toBeUndefined();
  });
});
