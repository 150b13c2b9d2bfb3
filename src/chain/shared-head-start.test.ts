/**
 * The probe's head start on a REAL Redis (redis-server, started per file): when a shared cooldown ends, every call
 * waiting on it wakes at the same instant. The call that met the failure is named in the record; it takes the probe
 * lease in one booking, and the others read from their mirrors that it probes and skip the model without a round
 * trip each (on a busy machine those round trips all waited for a core at once: bench:fleet's storm). A named call
 * that has no turn then costs the others the head start (PROBE_HEAD_START_MS), never a second probe.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import { loadConfig } from '../config.js';
import { playTurns, rateLimited, redisForFile, startFleet, type Job } from '../testing/shared-fleet.js';
import type { Backend } from './backends.js';
import { PROBE_HEAD_START_MS, PROBE_RECHECK_MS } from './shared-cooldowns.js';

const KEY = 'sk-or-v1-head-start-secret';
const config = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: 'a/one,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
const fleetRedis = redisForFile();

/** a/one is rate limited (Retry-After 2 s) until 1 s: the first call's 429 at 10 cools it until 2010. */
const END = 2_010;

async function fleet(n: number): Promise<{ clock: VirtualClock; calls: Job[] }> {
  const clock = new VirtualClock(0, 1_700_000_000_000);
  const script = (b: Backend, now: number) => (b.model === 'a/one' && now < 1_000 ? rateLimited(2_000) : 'ok');
  return { clock, calls: await startFleet(fleetRedis, n, { clock, config, script, apiKey: KEY, store: { deadlineMs: 1_000 } }) };
}

describe('the probe after a shared cooldown: the call that met the failure has a head start (real Redis)', () => {
  it('three calls wake at its end: the named call probes in one booking, the others skip the model without a round trip', async () => {
    const { clock, calls } = await fleet(3);
    const [a, b, c] = calls as [(typeof calls)[0], (typeof calls)[0], (typeof calls)[0]];
    const stores = calls.map((call) => call.store);
    expect(await playTurns(clock, [a.chain], stores)).toEqual([['openrouter:b/two: answer from b/two']]);
    await Promise.all(calls.map((call) => call.chain.syncShared())); // every call has the record (and its name)
    const before = calls.map((call) => call.bookings());

    await clock.advance(END - clock.now());
    const heard = await playTurns(clock, [a.chain, b.chain, c.chain], stores);
    expect(heard).toEqual([['openrouter:a/one: answer from a/one'], ['openrouter:b/two: answer from b/two'], ['openrouter:b/two: answer from b/two']]);
    expect(calls.map((call, i) => call.bookings() - (before[i] as number))).toEqual([1, 0, 0]);
    // Each waiter skipped a/one on what its mirror said when it decided: A's name (until the head start's end) or, when
    // A's booking had landed first (the calls decide at the same instant, on connections of their own), A's lease.
    for (const waiter of [b, c]) {
      expect(waiter.skips().at(-1)).toMatchObject({ model: 'a/one' });
      expect([END + PROBE_HEAD_START_MS, END + PROBE_RECHECK_MS]).toContain(waiter.skips().at(-1)?.cooldownUntil);
    }
    expect(calls.flatMap((call) => call.attempts).filter((id) => id === 'openrouter:a/one')).toHaveLength(2); // the discovery and one probe
  });

  it('the named call has no turn at the end: another call probes once the head start is over', async () => {
    const { clock, calls } = await fleet(2);
    const [a, b] = calls as [(typeof calls)[0], (typeof calls)[0]];
    const stores = calls.map((call) => call.store);
    await playTurns(clock, [a.chain], stores);
    await clock.advance(END - clock.now());
    expect(await playTurns(clock, [b.chain], stores)).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(b.skips().at(-1)).toMatchObject({ model: 'a/one', cooldownUntil: END + PROBE_HEAD_START_MS });
    expect(b.bookings()).toBe(0);

    await clock.advance(END + PROBE_HEAD_START_MS - clock.now());
    expect(await playTurns(clock, [b.chain], stores)).toEqual([['openrouter:a/one: answer from a/one']]);
    expect(b.bookings()).toBe(1);
  });

  it("another call's live probe lease, once the mirror has it, refuses a booking without a round trip", async () => {
    const { clock, calls } = await fleet(2);
    const [a, b] = calls as [(typeof calls)[0], (typeof calls)[0]];
    // a/one cooled until 0 by a cooldown that names nobody: whoever asks first takes the lease.
    await a.store.fail('a/one', { until: 0, cls: 'rate-limit' });
    expect(await a.store.claimProbe('a/one', 60_000)).toEqual({ granted: true });
    await b.store.changes(); // B's mirror has A's lease (caught up on this clock)
    expect(await b.store.claimProbe('a/one', 60_000)).toEqual({ granted: false, until: clock.now() + PROBE_RECHECK_MS });
    expect([a.bookings(), b.bookings()]).toEqual([1, 0]);
  });
});
