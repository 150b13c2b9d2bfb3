import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../contract/clock.js';
import type { AccountSettings } from '../../../contract/scenario/schema.js';
import { scenarioCalendar } from '../calendar.js';
import { describeAccount, FreeQuota } from './quota.js';

const FREE = 'meta-llama/llama-3.3-70b-instruct:free';
const OTHER_FREE = 'qwen/qwen-2.5-72b-instruct:free';
const PAID = 'openai/gpt-4o-mini';
/** The wall clock's scenario time 0 (any instant: only differences matter). */
const ORIGIN = Date.UTC(2026, 5, 1, 8, 0, 0);
/** `fake.startsAt`: scenario time 0 is 23:59:30 UTC on the calendar. */
const STARTS_AT = Date.UTC(2026, 0, 15, 23, 59, 30);

/** A quota on a clock at `speed` whose scenario time 0 is ORIGIN on the wall and STARTS_AT on the calendar. */
function quotaFor(account: AccountSettings, speed = 10, startsAt: number | null = STARTS_AT) {
  const clock = new ScaledClock(speed, ORIGIN);
  return new FreeQuota(scenarioCalendar(clock, () => startsAt ?? undefined), () => account);
}

describe('the free-model limiter', () => {
  it("refuses the 21st free request of a minute with OpenRouter's body and headers, reset told on the wall clock at the speed", () => {
    const quota = quotaFor({ credits: 10, quota: true });
    // Twenty requests across two free models at scenario 0..19 ms (23:59:30 on the calendar): one account-wide count.
    for (let i = 0; i < 20; i++) expect(quota.pass('key_a', i % 2 ? FREE : OTHER_FREE, i, false)).toBeUndefined();
    const refused = quota.pass('key_a', FREE, 1_000, false);
    // The next calendar minute (midnight too) is 30 s of scenario time away: 3 s of wall time at speed 10.
    const reset = String(ORIGIN + 3_000);
    expect(refused?.error).toEqual({
      status: 429,
      fallsBack: true,
      message: 'Rate limit exceeded: free-models-per-min. ',
      metadata: { headers: { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset } },
      headers: { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset },
    });
    expect(refused?.text).toBe("the key's free-model quota is spent (20 requests this minute): 429 until the next minute");
    // At the calendar minute (scenario 30 s) the window is new.
    expect(quota.pass('key_a', FREE, 30_000, false)).toBeUndefined();
  });

  it('paid models are not limited, and not counted', () => {
    const quota = quotaFor({ credits: 0, quota: true });
    for (let i = 0; i < 100; i++) expect(quota.pass('key_a', PAID, i, false)).toBeUndefined();
    expect(quota.report('key_a', 100).free.inDay).toBe(0);
  });

  it("the daily 429 of an account without 10 credits says so, and resets at the calendar's midnight", () => {
    const quota = quotaFor({ credits: 0, quota: true }, 1, Date.UTC(2026, 0, 15, 12, 0, 0));
    for (let i = 0; i < 50; i++) expect(quota.pass('key_a', FREE, i * 10_000, false)).toBeUndefined();
    const refused = quota.pass('key_a', FREE, 500_000, false);
    expect(refused?.error.message).toBe('Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day');
    // Midnight is 12 h of scenario time after noon; at speed 1 that is 12 h of wall time after the origin.
    expect(refused?.error.headers).toEqual({ 'X-RateLimit-Limit': '50', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(ORIGIN + 12 * 3_600_000) });
    expect(refused?.text).toBe("the key's free-model quota is spent (50 requests today): 429 until the next UTC midnight");
    expect(quota.pass('key_a', FREE, 12 * 3_600_000, false)).toBeUndefined();
  });

  it('the daily 429 of an account with 10 credits is the high-balance one, at 1000', () => {
    const quota = quotaFor({ credits: 25, quota: true }, 1, Date.UTC(2026, 0, 15, 0, 0, 0));
    for (let i = 0; i < 1000; i++) expect(quota.pass('key_a', FREE, i * 3_000, false)).toBeUndefined();
    const refused = quota.pass('key_a', FREE, 3_000_000, false);
    expect(refused?.error.message).toBe('Rate limit exceeded: free-models-per-day-high-balance.');
    expect(refused?.error.headers?.['X-RateLimit-Limit']).toBe('1000');
  });

  it('without fake.startsAt the calendar is the wall clock: scenario time 0 is the clock origin', () => {
    const quota = quotaFor({ credits: 10, quota: true }, 10, null);
    for (let i = 0; i < 20; i++) quota.pass('key_a', FREE, i, false);
    // ORIGIN is 08:00:00: the next minute is 60 s of scenario time away, 6 s of wall time at speed 10.
    expect(quota.pass('key_a', FREE, 20, false)?.error.headers?.['X-RateLimit-Reset']).toBe(String(ORIGIN + 6_000));
  });

  it("a rule's scripted error wins over the limiter, and counts while the window has room", () => {
    const quota = quotaFor({ credits: 10, quota: true });
    for (let i = 0; i < 15; i++) expect(quota.pass('key_a', FREE, i, true)).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(quota.pass('key_a', FREE, 100 + i, false)).toBeUndefined();
    // Full: a request no rule answers is refused; one a rule answers is not (and is not counted).
    expect(quota.pass('key_a', FREE, 200, false)?.error.status).toBe(429);
    expect(quota.pass('key_a', FREE, 201, true)).toBeUndefined();
    expect(quota.report('key_a', 300).free.inMinute).toBe(20);
  });

  it('quota off: counted (for /key) but never refused', () => {
    const quota = quotaFor({ credits: 10, quota: false });
    for (let i = 0; i < 60; i++) expect(quota.pass('key_a', FREE, i, false)).toBeUndefined();
    expect(quota.report('key_a', 100)).toMatchObject({ free: { inMinute: 60, inDay: 60 }, limits: { perMinute: 20, perDay: 1000 } });
  });

  it('keys are apart, and clear() starts every one over', () => {
    const quota = quotaFor({ credits: 10, quota: true });
    for (let i = 0; i < 20; i++) quota.pass('key_a', FREE, i, false);
    expect(quota.pass('key_a', FREE, 21, false)).toBeDefined();
    expect(quota.pass('key_b', FREE, 22, false)).toBeUndefined();
    quota.clear();
    expect(quota.pass('key_a', FREE, 23, false)).toBeUndefined();
  });

  it('explains the account in one sentence', () => {
    expect(describeAccount({ credits: 0, quota: true })).toBe('account: 0 credits bought; per key, :free models answer 20 requests a minute and 50 a day, then 429.');
    expect(describeAccount({ credits: 10, quota: false })).toBe('account: 10 credits bought; free-model quota off (:free requests counted, never refused for it).');
  });
});
