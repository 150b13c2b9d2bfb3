/**
 * The key's `:free` budget and hedges on a REAL Redis (redis-server, started per file): the daily quota beside the
 * minute's (configured, learned from the account's `/key` on the real fake, or from a daily 429), and hedged requests
 * taking the budget and respecting another call's probe lease like any request.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';
import { startFakeOpenRouter } from '../../fakes/openrouter/public.js';
import { loadConfig } from '../config.js';
import { playTurns, redisForFile, ready, startJob, type Job, type JobOptions } from '../testing/shared-fleet.js';
import type { AttemptResult } from './attempt.js';
import { freeDailyFromKey, learnFreeDaily } from './free-quota.js';

const KEY = 'sk-or-v1-budget-secret';
const EPOCH = 1_700_000_000_000;
const DAY_MS = 86_400_000;
/** Scenario ms of the first UTC midnight after EPOCH (the clock's 0). */
const MIDNIGHT = (Math.floor(EPOCH / DAY_MS) + 1) * DAY_MS - EPOCH;

const configOf = (models: string, hedgePercent = '0') =>
  loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: models, LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: hedgePercent });

const fleetRedis = redisForFile();
const stores = fleetRedis.stores;

/**
 * These tests are about what the budget decides, not about a slow Redis (shared-cooldowns.test.ts is): a deadline of a
 * second, so a loaded machine cannot turn a budget refusal into the in-process fallback.
 */
const PATIENT_MS = 1_000;

async function jobs(n: number, options: Omit<JobOptions, 'redisUrl' | 'apiKey' | 'clock'>, clock = new VirtualClock(0, EPOCH)): Promise<{ clock: VirtualClock; calls: Job[] }> {
  const calls = Array.from({ length: n }, () =>
    startJob({ clock, redisUrl: fleetRedis.server().url, apiKey: KEY, ...options, store: { deadlineMs: PATIENT_MS, ...options.store } }),
  );
  stores.push(...calls.map((c) => c.store));
  await Promise.all(calls.map((c) => ready(c.store)));
  return { clock, calls };
}

const freeAsked = (calls: Job[], id = 'openrouter:a/one:free') => calls.flatMap((c) => c.attempts).filter((a) => a === id).length;
const hedges = (seen: AgentEvent[]) => seen.filter((e) => e.type === 'attempt' && e.hedge === true);

describe("the key's daily :free budget (real Redis)", () => {
  it('a configured daily limit: the fleet sends no more that day, the model is skipped until midnight, then asked again', async () => {
    const { clock, calls } = await jobs(2, { config: configOf('a/one:free,b/two'), script: () => 'ok', store: { freePerMinute: 20, freePerDay: 3 } });
    const [a, b] = calls as [Job, Job];
    const stores_ = calls.map((c) => c.store);
    const heard: string[] = [];
    for (const call of [a, b, a, b]) heard.push(...(await playTurns(clock, [call.chain], stores_)).flat());
    expect(heard.map((h) => h.split(':')[1])).toEqual(['a/one', 'a/one', 'a/one', 'b/two']);
    expect(freeAsked(calls)).toBe(3);
    // The minute has room (3 of 20): it is the day that is spent, so the wait is until midnight, not a minute.
    expect(b.skips().at(-1)).toMatchObject({ model: 'a/one:free', cooldownUntil: MIDNIGHT });
    expect(a.store.freePerDay).toEqual({ limit: 3, source: 'config' });

    await clock.advance(MIDNIGHT - clock.now());
    expect((await playTurns(clock, [a.chain], stores_)).flat()).toEqual(['openrouter:a/one:free: answer from a/one:free']);
  });

  it("learned from the account's GET /key on the fake: a free-tier key's 50 a day, and what it already used today counts", async () => {
    const fake = await startFakeOpenRouter({ scenario: { agent: { models: ['a/one:free'] }, fake: { account: { credits: 0 } } } });
    try {
      const { clock, calls } = await jobs(1, { config: configOf('a/one:free,b/two'), script: () => 'ok' });
      const [a] = calls as [Job];
      expect(a.store.freePerDay).toBeUndefined();
      expect(await learnFreeDaily(a.store, fake.baseURL, KEY)).toEqual({ limit: 50, used: 0 });
      expect(a.store.freePerDay).toEqual({ limit: 50, source: 'key' });
      expect(a.lines).toContainEqual(expect.objectContaining({ freePerDay: 50, source: 'key' }));
      expect(JSON.stringify(a.lines)).not.toContain(KEY);

      // Another program on the key used 49 today (what /key would say): the fleet has one request left, not 50.
      await a.store.learnFreePerDay(50, 'key', 49);
      const heard = [...(await playTurns(clock, [a.chain], [a.store])), ...(await playTurns(clock, [a.chain], [a.store]))].flat();
      expect(heard.map((h) => h.split(':')[1])).toEqual(['a/one', 'b/two']);
      expect(a.skips().at(-1)).toMatchObject({ model: 'a/one:free', cooldownUntil: MIDNIGHT });
    } finally {
      await fake.close();
    }
  });

  it('/key answers: free_model_daily_requests wins, else is_free_tier (50 or 1000), else nothing is learned', () => {
    expect(freeDailyFromKey({ data: { is_free_tier: false, free_model_daily_requests: { limit: 1000, used: 12, remaining: 988 } } })).toEqual({ limit: 1000, used: 12 });
    expect(freeDailyFromKey({ data: { is_free_tier: true } })).toEqual({ limit: 50 });
    expect(freeDailyFromKey({ data: { is_free_tier: false } })).toEqual({ limit: 1000 });
    expect(freeDailyFromKey({ data: { label: 'x' } })).toBeUndefined();
    expect(freeDailyFromKey({ error: { code: 401 } })).toBeUndefined();
  });

  it("a daily 429's X-RateLimit-Limit teaches the fleet the limit; a configured one is never overridden", async () => {
    const daily: AttemptResult = {
      cancelled: false,
      textSent: false,
      failure: { class: 'rate-limit', detail: '429: Rate limit exceeded: free-models-per-day.', status: 429, daily: true, limit: 1000, resetAtEpochMs: EPOCH + MIDNIGHT },
    };
    const script: JobOptions['script'] = (backend) => (backend.model === 'a/one:free' ? daily : 'ok');
    const { clock, calls } = await jobs(1, { config: configOf('a/one:free,b/two'), script });
    const [a] = calls as [Job];
    expect((await playTurns(clock, [a.chain], [a.store])).flat()).toEqual(['openrouter:b/two: answer from b/two']);
    await a.store.idle();
    expect(a.store.freePerDay).toEqual({ limit: 1000, source: '429' });

    const configured = await jobs(1, { config: configOf('a/one:free,b/two'), script, store: { freePerDay: 7 } }, clock);
    const [c] = configured.calls as [Job];
    await c.store.learnFreePerDay(1000, '429');
    expect(c.store.freePerDay).toEqual({ limit: 7, source: 'config' });
  });
});

describe('hedges take the budget and respect the probe lease (real Redis)', () => {
  // a/one sends no token at all: after HEDGE_MAX_MS the chain wants to hedge on the next model.
  const stallsA = { stalls: (b: { model: string }) => b.model === 'a/one', script: () => 'ok' as const };

  it('without anything in the way, the late request is hedged (the control: the same setup below is refused)', async () => {
    const { clock, calls } = await jobs(1, { config: configOf('a/one,b/two:free', '10'), ...stallsA, store: { freePerMinute: 5 } });
    const [a] = calls as [Job];
    expect((await playTurns(clock, [a.chain], [a.store])).flat()).toEqual(['openrouter:b/two:free: answer from b/two:free']);
    expect(hedges(a.seen)).toEqual([expect.objectContaining({ model: 'b/two:free', outcome: 'ok' })]);
    // The hedge took a slot of the key's :free budget.
    expect(await a.store.client.zcard((await a.store.client.keys('holdline:free:*'))[0] as string)).toBe(1);
  });

  it('no hedge the :free budget forbids: another call spent the minute, so the hedge is not sent', async () => {
    const { clock, calls } = await jobs(2, { config: configOf('a/one,b/two:free', '10'), ...stallsA, store: { freePerMinute: 1 } });
    const [a, other] = calls as [Job, Job];
    expect(await other.store.book('b/two:free', { leaseEnd: 0, free: true })).toMatchObject({ granted: true }); // the fleet's one slot this minute
    await playTurns(clock, [a.chain], [a.store]);
    expect(hedges(a.seen)).toEqual([]);
    // b/two:free was not asked before the slot freed at 60 s (the turn went on to the local server meanwhile).
    const freeAttempts = a.seen.filter((e): e is Extract<AgentEvent, { type: 'attempt' }> => e.type === 'attempt' && e.model === 'b/two:free');
    expect(freeAttempts).toEqual([]);
    expect(a.seen.some((e) => e.type === 'policy' && e.step === 'hedge')).toBe(false);
  });

  it('no hedge to a model another call is probing: the lease holder asks it, nobody else', async () => {
    const { clock, calls } = await jobs(2, { config: configOf('a/one,b/two', '10'), ...stallsA });
    const [a, prober] = calls as [Job, Job];
    // b/two was cooling until 0 (a past 429, shared); the other call holds the probe lease on it for 60 s.
    expect(await prober.store.fail('b/two', { until: 0, cls: 'rate-limit', streak: 1 })).toBe(true);
    expect(await prober.store.claimProbe('b/two', 60_000)).toEqual({ granted: true });
    await playTurns(clock, [a.chain], [a.store]);
    expect(hedges(a.seen)).toEqual([]);
    expect(a.attempts).not.toContain('openrouter:b/two');
    expect(a.seen.some((e) => e.type === 'policy' && e.step === 'hedge')).toBe(false);
  });
});

describe('what a dropped hedge booked goes back (real Redis)', () => {
  it("a hedge allowed (its :free slot booked) but never sent gives its slot back: another call may take it", async () => {
    const { calls } = await jobs(2, { config: configOf('a/one,b/two:free', '100'), script: () => 'ok', store: { freePerMinute: 1, freePerDay: 1 } });
    const [a, other] = calls as [Job, Job];
    const target = a.chain.options.backends.find((b) => b.model === 'b/two:free');
    if (!target) throw new Error('no b/two:free backend');
    a.chain.hedgeBudget.earn();
    expect(await a.chain.allowSharedHedge(target, 0)).toBe(true); // the fleet's one slot this minute, and today
    expect(await other.store.book('b/two:free', { leaseEnd: 0, free: true })).toMatchObject({ granted: false, why: 'day' });
    // The race closed before the pick came back: never sent, so nothing reached OpenRouter's count.
    a.chain.hedgeDropped(target);
    await a.store.idle();
    expect(await other.store.book('b/two:free', { leaseEnd: 0, free: true })).toMatchObject({ granted: true });
  });

  it('a hedge that was sent keeps its slot', async () => {
    const { calls } = await jobs(2, { config: configOf('a/one,b/two:free', '100'), script: () => 'ok', store: { freePerMinute: 1 } });
    const [a, other] = calls as [Job, Job];
    const target = a.chain.options.backends.find((b) => b.model === 'b/two:free') as NonNullable<ReturnType<typeof a.chain.options.backends.find>>;
    a.chain.hedgeBudget.earn();
    expect(await a.chain.allowSharedHedge(target, 0)).toBe(true);
    a.chain.hedgeSent(target);
    a.chain.hedgeDropped(target); // (never both for one hedge; even so, a sent hedge's slot stays spent)
    await a.store.idle();
    expect(await other.store.book('b/two:free', { leaseEnd: 0, free: true })).toMatchObject({ granted: false, why: 'minute' });
  });
});

describe('two hedges on one model, one dropped late: each gives back only what it booked (real Redis)', () => {
  it("a cancelled turn's late pick gives back its own slot, not the slot of the next turn's hedge that was sent", async () => {
    const { calls } = await jobs(2, { config: configOf('a/one,b/two:free', '100'), script: () => 'ok', store: { freePerMinute: 2 } });
    const [a, other] = calls as [Job, Job];
    const target = a.chain.options.backends.find((b) => b.model === 'b/two:free') as NonNullable<ReturnType<typeof a.chain.options.backends.find>>;
    const late = {};
    const next = {};
    a.chain.hedgeBudget.earn();
    a.chain.hedgeBudget.earn();
    expect(await a.chain.allowSharedHedge(target, 0, late)).toBe(true); // slot 1 of the minute's 2
    expect(await a.chain.allowSharedHedge(target, 0, next)).toBe(true); // slot 2
    a.chain.hedgeSent(target, next);
    a.chain.hedgeDropped(target, late);
    await a.store.idle();
    // The late pick's slot is free again (one request may go), the sent hedge's is not (no second).
    expect(await other.store.book('b/two:free', { leaseEnd: 0, free: true })).toMatchObject({ granted: true });
    expect(await other.store.book('b/two:free', { leaseEnd: 0, free: true })).toMatchObject({ granted: false, why: 'minute' });
  });
});

describe('a Redis restart does not hand the fleet a new :free budget (real Redis)', () => {
  it("the day's count and this minute's slots are written back from what the calls knew: no request OpenRouter would refuse", async () => {
    const { clock, calls } = await jobs(2, { config: configOf('a/one:free,b/two'), script: () => 'ok', store: { freePerMinute: 20, freePerDay: 3 } });
    const [a, b] = calls as [Job, Job];
    for (const call of [a, b, a]) await playTurns(clock, [call.chain], [a.store, b.store]);
    expect(freeAsked(calls)).toBe(3); // the day is spent

    const ups = Promise.all([a.store, b.store].map((s) => new Promise((resolve) => s.once('up', resolve))));
    await fleetRedis.server().kill();
    await fleetRedis.server().restart(); // empty: no persistence
    await ups;
    const [dayKey] = await a.store.client.keys('holdline:free-day:*');
    expect(await a.store.client.hget(dayKey as string, 'used')).toBe('3');
    // What each call booked this minute is back in the window too (a 20-a-minute key would otherwise get 20 more).
    const [minuteKey] = await a.store.client.keys('holdline:free:*');
    expect(await a.store.client.zcard(minuteKey as string)).toBe(3);
    await Promise.all([ready(a.store), ready(b.store)]);
    expect((await playTurns(clock, [b.chain], [a.store, b.store])).flat()).toEqual(['openrouter:b/two: answer from b/two']);
    expect(freeAsked(calls)).toBe(3);
    expect(b.skips().at(-1)).toMatchObject({ model: 'a/one:free', cooldownUntil: MIDNIGHT });
  });
});
