import { describe, expect, it } from 'vitest';
import { admitFree, countFree, countsAt, freeLimits, isFreeModel, NO_FREE_COUNTS, type FreeCounts, type FreeVerdict } from './free-quota.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** 2026-01-15 12:00:00 UTC: a minute and a day boundary are far from every test's requests unless it says so. */
const NOON = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Sends `n` requests at the given instants (one each), returning the counts and the verdicts. */
function send(limits: ReturnType<typeof freeLimits>, instants: number[], start: FreeCounts = NO_FREE_COUNTS) {
  let counts = start;
  const verdicts: FreeVerdict[] = [];
  for (const at of instants) {
    const v = admitFree(counts, limits, at);
    if (v.admitted) counts = v.counts;
    verdicts.push(v);
  }
  return { counts, verdicts };
}

const every = (n: number, from: number, stepMs: number) => Array.from({ length: n }, (_, i) => from + i * stepMs);

describe('the free-model quota', () => {
  it('only :free model ids are limited', () => {
    expect(isFreeModel('meta-llama/llama-3.3-70b-instruct:free')).toBe(true);
    expect(isFreeModel('openai/gpt-4o-mini')).toBe(false);
    expect(isFreeModel('x/free')).toBe(false);
    expect(isFreeModel('x/y:free:extended')).toBe(false);
  });

  it('50 a day under 10 credits bought, 1000 from 10 on, 20 a minute either way', () => {
    expect(freeLimits(0)).toEqual({ perMinute: 20, perDay: 50, highBalance: false });
    expect(freeLimits(9.99)).toEqual({ perMinute: 20, perDay: 50, highBalance: false });
    expect(freeLimits(10)).toEqual({ perMinute: 20, perDay: 1000, highBalance: true });
    expect(freeLimits(500)).toEqual({ perMinute: 20, perDay: 1000, highBalance: true });
  });

  it('the 21st request of a calendar minute is refused until the next minute', () => {
    const { verdicts } = send(freeLimits(10), every(21, NOON + 5_000, 100));
    expect(verdicts.slice(0, 20).every((v) => v.admitted)).toBe(true);
    expect(verdicts[20]).toMatchObject({ admitted: false, refusal: { window: 'minute', limit: 20, resetEpochMs: NOON + MINUTE } });
  });

  it('the minute is the calendar minute, not a sliding one: 20 just before it ends, 20 more just after', () => {
    const before = every(20, NOON + MINUTE - 2_000, 50);
    const after = every(20, NOON + MINUTE, 50);
    const { verdicts } = send(freeLimits(10), [...before, ...after]);
    expect(verdicts.every((v) => v.admitted)).toBe(true);
  });

  it('a refused request is not counted: the window still holds 20 after many refusals', () => {
    const { counts, verdicts } = send(freeLimits(10), every(100, NOON, 10));
    expect(verdicts.filter((v) => v.admitted)).toHaveLength(20);
    expect(counts.inMinute).toBe(20);
    expect(counts.inDay).toBe(20);
  });

  it('the 51st request of a UTC day (under 10 credits) is refused until midnight, across minutes', () => {
    // 3 a minute, far below the minute limit, for 17 minutes: 51 requests.
    const instants = Array.from({ length: 51 }, (_, i) => NOON + Math.floor(i / 3) * MINUTE + (i % 3) * 1_000);
    const { verdicts } = send(freeLimits(0), instants);
    expect(verdicts.slice(0, 50).every((v) => v.admitted)).toBe(true);
    expect(verdicts[50]).toMatchObject({ admitted: false, refusal: { window: 'day', limit: 50, resetEpochMs: Date.UTC(2026, 0, 16) } });
  });

  it('the daily count starts over at UTC midnight on the calendar, and so does the minute', () => {
    const lastMinute = Date.UTC(2026, 0, 15, 23, 59, 0);
    const full: FreeCounts = { minuteStart: lastMinute, inMinute: 20, dayStart: Date.UTC(2026, 0, 15), inDay: 50 };
    expect(admitFree(full, freeLimits(0), Date.UTC(2026, 0, 15, 23, 59, 59, 999))).toMatchObject({ admitted: false, refusal: { window: 'day' } });
    const next = admitFree(full, freeLimits(0), Date.UTC(2026, 0, 16));
    expect(next).toEqual({ admitted: true, counts: { minuteStart: Date.UTC(2026, 0, 16), inMinute: 1, dayStart: Date.UTC(2026, 0, 16), inDay: 1 } });
  });

  it('a full day is named before a full minute (its reset is the later one)', () => {
    const both: FreeCounts = { minuteStart: NOON, inMinute: 20, dayStart: Date.UTC(2026, 0, 15), inDay: 1000 };
    expect(admitFree(both, freeLimits(10), NOON + 1)).toMatchObject({ admitted: false, refusal: { window: 'day', limit: 1000, resetEpochMs: Date.UTC(2026, 0, 16) } });
  });

  it('1000 a day with 10 credits: request 1001 is refused, request 1000 is not', () => {
    const instants = Array.from({ length: 1001 }, (_, i) => NOON - 6 * 3_600_000 + Math.floor(i / 20) * MINUTE + (i % 20));
    const { verdicts } = send(freeLimits(10), instants);
    expect(verdicts.filter((v) => v.admitted)).toHaveLength(1000);
    expect(verdicts[999]?.admitted).toBe(true);
    expect(verdicts[1000]).toMatchObject({ admitted: false, refusal: { window: 'day', limit: 1000 } });
  });

  it('countFree counts past the limits (an account exempt from them), and countsAt forgets ended windows', () => {
    let counts = NO_FREE_COUNTS;
    for (const at of every(30, NOON, 10)) counts = countFree(counts, at);
    expect(counts).toMatchObject({ inMinute: 30, inDay: 30 });
    expect(countsAt(counts, NOON + MINUTE)).toMatchObject({ inMinute: 0, inDay: 30 });
    expect(countsAt(counts, NOON + DAY)).toMatchObject({ inMinute: 0, inDay: 0 });
  });
});
