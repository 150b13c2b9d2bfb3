/**
 * Shared cooldowns on a REAL Redis (redis-server, started per file): two chains with their own in-process state and
 * their own Redis connections, as two job processes of a fleet, on one virtual clock. A 429 seen by one cools the
 * model for the other; a success clears it; after a cooldown one call probes while the other waits for its verdict;
 * Redis killed mid-run costs no turn (logged once, counted) and is resynced when it is back.
 *
 * Virtual time moves only when both chains wait on the clock and no Redis call is under way (`idle`), so the turns'
 * timelines are exact whatever the machine's load.
 */
import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { llm } from '@livekit/agents';
import { ScaledClock, VirtualClock } from '../../contract/clock.js';
import { loadConfig } from '../config.js';
import { collectSharedMetrics } from '../observability/metrics.js';
import { closedPort } from '../testing/ports.js';
import { playTurns, redisForFile, rateLimited, ready, startJob, type Job, type Script } from '../testing/shared-fleet.js';
import type { Backend } from './backends.js';
import { isSourcedChunk, type ChainLLM } from './chain-llm.js';
import { PROBE_HEAD_START_MS, PROBE_RECHECK_MS, REDIS_DEADLINE_MS, SharedCooldowns } from './shared-cooldowns.js';
import { FREE_WINDOW_MARGIN_MS } from './shared-scripts.js';

const KEY = 'sk-or-v1-fleet-secret';
const config = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: 'a/one,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });

const fleetRedis = redisForFile();
const stores = fleetRedis.stores;

/** One "job process": its own chain, in-process cooldowns, Redis connection, events and log lines. */
/**
 * What is shared, not how slow Redis may be (the stalled-Redis test is about that, on the production deadline): a
 * deadline of a second, as in shared-budget.test.ts, so a loaded machine missing 50 ms cannot turn a shared verdict
 * into the in-process fallback (two probes where one was due).
 */
const PATIENT_MS = 1_000;

function job(clock: VirtualClock, script: Script, answerMs = 10, chainConfig = config, freePerMinute = 20, url = fleetRedis.server().url, deadlineMs = PATIENT_MS): Job {
  const started = startJob({ clock, config: chainConfig, script, redisUrl: url, apiKey: KEY, answerMs, store: { freePerMinute, deadlineMs } });
  stores.push(started.store);
  return started;
}

const turns = playTurns;

/** Two calls on one clock, each on its own connection, a/one rate limited (Retry-After `retryAfterMs`) until `downUntil`. */
async function fleet(downUntil: number, retryAfterMs: number, answerMs = 10) {
  const clock = new VirtualClock(0, 1_700_000_000_000);
  const storm = (b: Backend, now: number) => (b.model === 'a/one' && now < downUntil ? rateLimited(retryAfterMs) : 'ok');
  const a = job(clock, storm, answerMs);
  const b = job(clock, storm, answerMs);
  await Promise.all([ready(a.store), ready(b.store)]);
  return { clock, a, b };
}

describe('shared cooldowns (real Redis)', () => {
  it('a 429 seen by one call cools the model for the other; a success clears it for both; the key never reaches Redis', async () => {
    const { clock, a, b } = await fleet(5_000, 5_000);

    expect(await turns(clock, [a.chain], [a.store, b.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(a.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two']);

    // The other call never asks a/one: it learns the cooldown from Redis, ending where the 429's Retry-After said,
    // plus A's head start on the probe (A met the 429: PROBE_HEAD_START_MS).
    expect(await turns(clock, [b.chain], [a.store, b.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(b.attempts).toEqual(['openrouter:b/two']);
    expect(b.skips()).toEqual([expect.objectContaining({ model: 'a/one', cooldownUntil: 5_010 + PROBE_HEAD_START_MS })]);
    expect(b.chain.status()[0]).toMatchObject({ ok: false, coolingUntil: 5_010 + PROBE_HEAD_START_MS, lastError: { class: 'rate-limit', detail: '429 rate limited', at: 10 } });

    // The stored record (and the records' version counter): hashed key plus model, times in epoch ms of the injected
    // clock; never the key itself.
    const keys = (await a.store.client.keys('*')).sort();
    expect(keys).toEqual([expect.stringMatching(/^holdline:cooldown:[0-9a-f]{16}:a\/one$/), expect.stringMatching(/^holdline:version:[0-9a-f]{16}$/)]);
    expect(keys.join()).not.toContain(KEY);
    expect(await a.store.client.hget(keys[0] as string, 'until')).toBe(String(1_700_000_000_000 + 5_010));

    // After the cooldown B asks a/one, which answers: the record is gone, and A (whose own record stays after its end,
    // keeping its streak) forgets it at its next look: its next failure would be a first one again.
    await clock.advance(6_000 - clock.now());
    expect(await turns(clock, [b.chain], [a.store, b.store])).toEqual([['openrouter:a/one: answer from a/one']]);
    expect(await a.store.client.keys('holdline:cooldown:*')).toEqual([]);
    expect(a.chain.cooldowns.get('openrouter:a/one')).toMatchObject({ streak: 1 });
    await a.chain.syncShared();
    expect(a.chain.cooldowns.has('openrouter:a/one')).toBe(false);
  });

  it('after a shared cooldown ends, one call probes the model and the other treats it as cooling until the verdict', async () => {
    // a/one is down until 5 s; its answer takes 300 ms, so both calls are deciding while the probe is out.
    const { clock, a, b } = await fleet(5_000, 2_000, 300);
    await turns(clock, [a.chain], [a.store, b.store]); // A learns: a/one 429, cooling until 2300.

    await clock.advance(6_000 - clock.now());
    const heard = await turns(clock, [a.chain, b.chain], [a.store, b.store]);
    const probes = [...a.attempts.slice(2), ...b.attempts].filter((id) => id === 'openrouter:a/one');
    expect(probes).toHaveLength(1);
    // One answered from a/one (the probe); the other skipped it (looking again within a second, while the lease lasts
    // the probe's first-token deadline) and answered from b/two at once.
    expect(heard.flat().sort()).toEqual(['openrouter:a/one: answer from a/one', 'openrouter:b/two: answer from b/two']);
    const waiter = heard[0]?.[0]?.startsWith('openrouter:b/two') ? a : b;
    expect(waiter.skips().at(-1)).toMatchObject({ model: 'a/one', cooldownUntil: 6_000 + PROBE_RECHECK_MS });
    // The verdict (a success) cleared the record: the waiter's next turn asks a/one first.
    expect(await a.store.client.keys('holdline:cooldown:*')).toEqual([]);
    waiter.attempts.splice(0);
    await turns(clock, [waiter.chain], [a.store, b.store]);
    expect(waiter.attempts).toEqual(['openrouter:a/one']);
  });

  it("a probe that fails again: its verdict (the new cooldown) is the other call's, and the fleet paid one request for it", async () => {
    const { clock, a, b } = await fleet(20_000, 2_000, 300);
    await turns(clock, [a.chain], [a.store, b.store]); // a/one 429 at 300: cooling until 2300

    await clock.advance(6_000 - clock.now());
    await turns(clock, [a.chain, b.chain], [a.store, b.store]);
    const asked = () => [...a.attempts, ...b.attempts].filter((id) => id === 'openrouter:a/one').length;
    expect(asked()).toBe(2); // the first discovery and one probe, not one per call
    // The probe failed at 6300 with Retry-After 2 s: both calls now skip a/one until 8300, the lease is gone.
    const [key] = await a.store.client.keys('holdline:cooldown:*');
    expect(await a.store.client.hgetall(key as string)).toMatchObject({ until: String(1_700_000_000_000 + 8_300), streak: '2' });
    expect(await a.store.client.hexists(key as string, 'probeUntil')).toBe(0);
    // The prober (named in the record: it met the new 429) waits for the end; the other also for its head start.
    const prober = b.attempts.includes('openrouter:a/one') ? b : a;
    for (const call of [a, b]) {
      await turns(clock, [call.chain], [a.store, b.store]);
      expect(call.skips().at(-1)).toMatchObject({ model: 'a/one', cooldownUntil: 8_300 + (call === prober ? 0 : PROBE_HEAD_START_MS) });
    }
    expect(asked()).toBe(2);
  });

  it("the key's :free budget is the fleet's: the request OpenRouter would refuse is not sent, the model is skipped until a slot frees", async () => {
    const clock = new VirtualClock(0, 1_700_000_000_000);
    const freeChain = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: 'a/one:free,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
    const a = job(clock, () => 'ok', 10, freeChain, 3);
    const b = job(clock, () => 'ok', 10, freeChain, 3);
    await Promise.all([ready(a.store), ready(b.store)]);
    const calls = [a, b, a, b, a];
    const heard: string[] = [];
    for (const call of calls) heard.push(...(await turns(clock, [call.chain], [a.store, b.store])).flat());
    // Three a minute fleet-wide: turns at 0, 10 and 20 ms spend them; the fourth and fifth wait for the slot, which
    // frees a minute after the first request plus the margin for a request still on its way (FREE_WINDOW_MARGIN_MS).
    expect(heard.map((h) => h.split(':')[1])).toEqual(['a/one', 'a/one', 'a/one', 'b/two', 'b/two']);
    expect([...a.attempts, ...b.attempts].filter((id) => id === 'openrouter:a/one:free')).toHaveLength(3);
    expect(b.skips().at(-1)).toMatchObject({ model: 'a/one:free', cooldownUntil: 60_000 + FREE_WINDOW_MARGIN_MS });
    expect(a.skips().at(-1)).toMatchObject({ model: 'a/one:free', cooldownUntil: 60_000 + FREE_WINDOW_MARGIN_MS });

    await clock.advance(60_000 + FREE_WINDOW_MARGIN_MS - clock.now());
    expect((await turns(clock, [a.chain], [a.store, b.store])).flat()).toEqual(['openrouter:a/one:free: answer from a/one:free']);
  });

  it('Redis killed mid-run: turns are answered on in-process state, the outage is logged once and counted, and state is resynced when Redis is back', async () => {
    const { clock, a, b } = await fleet(60_000, 30_000);
    const registry = new Registry();
    collectSharedMetrics(registry, a.store);
    const downs = Promise.all([a.store, b.store].map((s) => new Promise((resolve) => s.once('down', resolve))));
    expect(a.store.disconnected).toBe(false);

    await fleetRedis.server().kill();
    await downs;
    // What a rehearsal on virtual time waits for after its kill (GET /healthz's `redis`): both connections closed.
    await vi.waitFor(() => expect(a.store.disconnected).toBe(true));
    // A's 429 and answer, on its own state: no Redis wait in the turn (calls fail at once while disconnected).
    expect(await turns(clock, [a.chain], [a.store, b.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(await turns(clock, [a.chain], [a.store, b.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(a.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two', 'openrouter:b/two']);
    expect(a.lines.filter((l) => l.redis === 'down')).toHaveLength(1);
    expect(JSON.stringify(a.lines)).not.toContain(KEY);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/holdline_redis_failures_total\{op="read",reason="disconnected"\} [1-9]/);
    expect(metrics).toMatch(/holdline_redis_up 0/);

    // Redis is back, empty (no persistence). A writes back what it learned as soon as it reconnects, with no turn
    // of its own to come (a call may have none); B then skips a/one.
    const ups = new Promise((resolve) => a.store.once('up', resolve));
    await fleetRedis.server().restart();
    // B's own client must be back too, or its turn rightly goes on without Redis.
    await Promise.all([ups, ready(b.store)]);
    expect(a.store.disconnected).toBe(false);
    expect(a.lines.filter((l) => l.redis === 'up')).toHaveLength(1);
    expect(await registry.metrics()).toMatch(/holdline_redis_up 1/);
    expect(await turns(clock, [b.chain], [a.store, b.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(b.attempts).toEqual(['openrouter:b/two']);
    expect(b.skips()).toEqual([expect.objectContaining({ model: 'a/one', cooldownUntil: 30_010 + PROBE_HEAD_START_MS })]);
  });

  it('Redis down from the start: the turn is answered, the outage logged once without the URL or its password', async () => {
    const clock = new VirtualClock(0, 1_700_000_000_000);
    const a = job(clock, (b, now) => (b.model === 'a/one' && now < 60_000 ? rateLimited(30_000) : 'ok'), 10, config, 20, `redis://:hunter2@127.0.0.1:${await closedPort()}`);
    await new Promise((resolve) => a.store.once('down', resolve));
    expect(await turns(clock, [a.chain], [a.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(await turns(clock, [a.chain], [a.store])).toEqual([['openrouter:b/two: answer from b/two']]);
    expect(a.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two', 'openrouter:b/two']); // its own cooldown still works
    expect(a.lines.filter((l) => l.redis === 'down')).toEqual([expect.objectContaining({ detail: 'ECONNREFUSED' })]);
    expect(JSON.stringify(a.lines)).not.toMatch(/hunter2|redis:\/\//);
  });

  it('a stalled Redis: each call gives up at its deadline and the turn is answered', async () => {
    const clock = new VirtualClock(0, 1_700_000_000_000);
    const a = job(clock, (b, now) => (b.model === 'a/one' && now < 60_000 ? rateLimited(30_000) : 'ok'), 10, config, 20, fleetRedis.server().url, REDIS_DEADLINE_MS);
    await ready(a.store);
    await whileRedisStalled(async () => {
      const started = performance.now();
      expect(await turns(clock, [a.chain], [a.store])).toEqual([['openrouter:b/two: answer from b/two']]);
      const wallMs = performance.now() - started;
      expect(a.store.failures.get('read:timeout')).toBeGreaterThanOrEqual(1);
      expect(a.lines.filter((l) => l.redis === 'down')).toEqual([expect.objectContaining({ detail: 'timeout' })]);
      // What the stall cost: one deadline (then calls are skipped for a second), not one per decision.
      console.info(`a turn with Redis stalled took ${wallMs.toFixed(0)} ms wall (deadline 50 ms)`);
    });
  });
});

describe('a rehearsal reset', () => {
  it('forgets the pause after a failure: scenario time went back to 0, and Redis is asked again at once, not after the last rehearsal\'s length', async () => {
    const { clock, a } = await rehearsalJob();
    clock.schedule(() => {}, 30_000);
    await clock.advanceToNext(); // 30 s into the first rehearsal
    // A call misses its deadline: Redis is skipped until 31 s of this rehearsal.
    await whileRedisStalled(() => turns(clock, [a.chain], [a.store]));
    expect(a.store.failures.get('read:timeout')).toBeGreaterThanOrEqual(1);
    clock.resetTo(); // the next rehearsal: scenario time 0
    a.chain.reset();
    await expectRedisAskedAtOnce(clock, a);
  });

  it('a call under way at the reset that misses its deadline after it starts no pause on the new timeline', async () => {
    const { clock, a } = await rehearsalJob();
    await whileRedisStalled(async () => {
      // One Redis call, under way, and Redis will not answer it in time.
      const late = a.store.fail('x/elsewhere', { until: clock.now() + 10_000, cls: 'rate-limit', streak: 1, since: clock.now() });
      clock.resetTo();
      a.chain.reset();
      await late;
    });
    expect([...a.store.failures]).toEqual([['fail:timeout', 1]]);
    await expectRedisAskedAtOnce(clock, a);
  });
});

/** One call on a rehearsal's virtual time, with the production deadline (50 ms), its store ready. */
async function rehearsalJob(): Promise<{ clock: RehearsalVirtualClock; a: Job }> {
  const clock = new RehearsalVirtualClock(0, 1_700_000_000_000);
  const a = job(clock, () => 'ok', 10, config, 20, fleetRedis.server().url, REDIS_DEADLINE_MS);
  await ready(a.store);
  return { clock, a };
}

/** Runs `work` while Redis accepts and answers nothing, then lets it answer again whatever happened. */
async function whileRedisStalled<T>(work: () => Promise<T>): Promise<T> {
  fleetRedis.server().pause();
  try {
    return await work();
  } finally {
    fleetRedis.server().resume();
  }
}

/** The next turn reads Redis (no call skipped for a pause) and leaves the store up. */
async function expectRedisAskedAtOnce(clock: RehearsalVirtualClock, a: Job): Promise<void> {
  const skippedBefore = a.store.failures.get('read:disconnected') ?? 0;
  expect(await turns(clock, [a.chain], [a.store])).toEqual([['openrouter:a/one: answer from a/one']]);
  expect(a.store.failures.get('read:disconnected') ?? 0).toBe(skippedBefore);
  expect(a.store.up).toBe(true);
}

describe('the deadline is Redis being late, not this process', () => {
  it('a reply that came in time, while the event loop was busy past the deadline, is the answer (no timeout, no outage)', async () => {
    const clock = new ScaledClock(1, Date.now());
    // Long enough that the setup's own calls (the snapshot, the failure written below) meet it on a loaded machine: only
    // the busy loop below is to outlast it. At 20 ms this test failed once in a loaded run, before the booking.
    const deadlineMs = 250;
    const store = new SharedCooldowns({ redis: fleetRedis.server().url, apiKey: `${KEY}-busy-loop`, clock, deadlineMs });
    stores.push(store);
    store.watch({ models: ['a/one'], local: () => new Map() });
    await ready(store);
    // a/one cooling for a minute: Redis refuses the probe; a booking that timed out would be granted instead.
    await store.fail('a/one', { until: clock.now() + 60_000, cls: 'rate-limit', streak: 1, since: clock.now() });
    expect([...store.failures]).toEqual([]);
    const sent = performance.now();
    const booking = store.claimProbe('a/one', clock.now() + 70_000);
    // The loop busy (no await) until Redis has surely answered: another connection's PING, sent after the booking, came
    // back (Redis answers in order and flushes every reply of a pass before it reads again), and past the deadline.
    // Bounded both ways: spawnSync blocks this worker's loop (no test timeout can fire), so a Redis that never answers
    // must end the child, and the child must not outlive the wait.
    const pong = spawnSync(
      process.execPath,
      ['-e', `setTimeout(()=>process.exit(2),5000).unref();const s=require('net').connect(${fleetRedis.server().port},'127.0.0.1',()=>s.write('PING\\r\\n'));s.on('data',()=>process.exit(0));s.on('error',()=>process.exit(1))`],
      { timeout: 10_000, killSignal: 'SIGKILL' },
    );
    expect(pong.status).toBe(0);
    while (performance.now() - sent < 2 * deadlineMs);
    expect(await booking).toMatchObject({ granted: false });
    expect([...store.failures]).toEqual([]);
    expect(store.up).toBe(true);
  });
});

describe('a probe lease given back (a hedge picked but never sent)', () => {
  it("frees the model for the next call at once; another call's lease is not touched", async () => {
    const clock = new VirtualClock(0, 1_700_000_000_000);
    const a = job(clock, () => 'ok');
    const b = job(clock, () => 'ok');
    stores.push(a.store, b.store);
    await Promise.all([ready(a.store), ready(b.store)]);
    // a/one cooled until 0: the cooldown is over, so whoever asks first takes the lease for 60 s.
    await a.store.fail('a/one', { until: 0, cls: 'rate-limit', streak: 1, since: -1 });
    expect(await a.store.claimProbe('a/one', 60_000)).toEqual({ granted: true });
    expect(await b.store.claimProbe('a/one', 60_000)).toMatchObject({ granted: false });
    await b.store.giveBack('a/one'); // not b's lease: nothing happens
    expect(await b.store.claimProbe('a/one', 60_000)).toMatchObject({ granted: false });
    await a.store.giveBack('a/one');
    // B's decision first takes what the fleet changed (its mirror, caught up on this clock): it reads the lease gone.
    await b.store.changes();
    expect(await b.store.claimProbe('a/one', 60_000)).toEqual({ granted: true });
  });
});

describe('the mirror: a decision reads memory, not Redis', () => {
  it("on wall time, a call that learns another's cooldown asks Redis nothing before its decisions (pub/sub brought it)", async () => {
    const { b } = await wallStormHeard();
    const sent: string[] = [];
    const send = b.store.client.sendCommand.bind(b.store.client);
    b.store.client.sendCommand = ((command: { name: string }) => {
      sent.push(command.name);
      return send(command as Parameters<typeof send>[0]);
    }) as typeof b.store.client.sendCommand;
    const registry = new Registry();
    collectSharedMetrics(registry, b.store);
    expect(await wallTurn(b.chain)).toEqual(['openrouter:b/two: answer from b/two']);
    expect(b.attempts).toEqual(['openrouter:b/two']);
    // Three decisions timed (skip a/one, ask b/two, done), none of which made a booking round trip.
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^holdline_redis_decision_seconds_count 3$/m);
    expect(metrics).toMatch(/^holdline_redis_booking_seconds_count 0$/m);
    expect(b.skips()).toEqual([expect.objectContaining({ model: 'a/one' })]);
    await b.store.idle();
    // Its decisions (skip a/one, ask b/two, done) read no record: the one command is the success it reports after.
    expect(sent).toEqual(['evalsha']);
  });

  it('on wall time a decision takes what the fleet changed without an await; on virtual time it waits for the catch-up', async () => {
    const { b } = await wallStormHeard();
    // In the same tick: the cooldown is B's before anything else of the event loop (or Redis) had a turn.
    expect(b.chain.syncSharedAtOnce()).toBe(true);
    expect(b.chain.status()[0]).toMatchObject({ ok: false, lastError: { class: 'rate-limit' } });
    // Taken once: a second look finds nothing new (and changes nothing).
    expect(b.chain.syncSharedAtOnce()).toBe(true);
    expect(b.chain.status()[0]).toMatchObject({ ok: false });

    // Virtual time: the mirror must first be caught up with what Redis has (a round trip): nothing is taken at once.
    const { a: virtualA, b: virtualB, clock: virtualClock } = await fleet(60_000, 30_000);
    await turns(virtualClock, [virtualA.chain], [virtualA.store, virtualB.store]);
    expect(virtualB.chain.syncSharedAtOnce()).toBe(false);
    expect(virtualB.chain.status()[0]).toMatchObject({ ok: true });
    await virtualB.chain.syncShared();
    expect(virtualB.chain.status()[0]).toMatchObject({ ok: false });
  });

  it('Redis flushed under the fleet (versions go back): the mirror reads the lot again and follows the new versions', async () => {
    const { clock, a, b } = await fleet(60_000, 30_000);
    await turns(clock, [a.chain], [a.store, b.store]);
    await turns(clock, [b.chain], [a.store, b.store]);
    expect(b.skips()).toEqual([expect.objectContaining({ model: 'a/one', cooldownUntil: 30_010 + PROBE_HEAD_START_MS })]);
    await a.store.client.flushall();
    // After the flush a/one's record is gone; B's next 429 on it is version 1 again, below what the mirrors had seen.
    await clock.advance(30_020 - clock.now());
    const resynced = new Promise((resolve) => a.store.mirror.once('stale', resolve));
    await turns(clock, [b.chain], [a.store, b.store]);
    await resynced;
    expect(b.attempts.filter((id) => id === 'openrouter:a/one')).toHaveLength(1);
    a.attempts.splice(0);
    await turns(clock, [a.chain], [a.store, b.store]);
    expect(a.attempts).toEqual(['openrouter:b/two']);
    expect(a.skips().at(-1)).toMatchObject({ model: 'a/one', cooldownUntil: 30_020 + 10 + 30_000 + PROBE_HEAD_START_MS });
  });
});

describe('the mirror across a Redis restart', () => {
  it("takes what is written back after a restart although its versions start again from 1", async () => {
    const { clock, a, b } = await fleet(120_000, 30_000);
    await turns(clock, [a.chain], [a.store, b.store]); // a/one 429 at 10: cooling until 30_010 (version 1)
    await turns(clock, [b.chain], [a.store, b.store]);
    expect(b.chain.status()[0]).toMatchObject({ ok: false, coolingUntil: 30_010 + PROBE_HEAD_START_MS });

    const downs = Promise.all([a.store, b.store].map((s) => new Promise((resolve) => s.once('down', resolve))));
    await fleetRedis.server().kill();
    await downs;
    // Redis away: A meets the 429 again on its own (cooling until 60_040), which only A knows.
    await clock.advance(30_020 - clock.now());
    await turns(clock, [a.chain], [a.store, b.store]);
    expect(a.chain.status()[0]).toMatchObject({ coolingUntil: 60_030 });

    const ups = Promise.all([a.store, b.store].map((s) => new Promise((resolve) => s.once('up', resolve))));
    await fleetRedis.server().restart(); // empty: A's write-back is version 1 again, no later than what B's mirror held
    await ups;
    await Promise.all([ready(a.store), ready(b.store)]);
    await b.chain.syncShared();
    expect(b.chain.status()[0]).toMatchObject({ ok: false, coolingUntil: 60_030 + PROBE_HEAD_START_MS });
  });
});

/**
 * A rehearsal's virtual time as the store sees it (speed Infinity, like AutoClock: its pause runs on the clock), which a
 * rehearsal reset takes back to scenario time 0 while its timers go on.
 */
class RehearsalVirtualClock extends VirtualClock {
  readonly speed = Infinity;
  private zero = 0;

  override now(): number {
    return super.now() - this.zero;
  }

  resetTo(): void {
    this.zero += this.now();
  }
}

/** Two calls on wall time (a ScaledClock): A met a/one's 429 (Retry-After 60 s), and B's mirror has heard of it. */
async function wallStormHeard(): Promise<{ a: Job; b: Job }> {
  const clock = new ScaledClock(1, Date.now());
  const storm = (b: Backend) => (b.model === 'a/one' ? rateLimited(60_000) : 'ok');
  const a = startJob({ clock, config, script: storm, redisUrl: fleetRedis.server().url, apiKey: KEY, answerMs: 1, store: { deadlineMs: PATIENT_MS } });
  const b = startJob({ clock, config, script: storm, redisUrl: fleetRedis.server().url, apiKey: KEY, answerMs: 1, store: { deadlineMs: PATIENT_MS } });
  stores.push(a.store, b.store);
  await Promise.all([ready(a.store), ready(b.store)]);
  const published = new Promise((resolve) => b.store.mirror.subscriber.once('message', resolve));
  await wallTurn(a.chain);
  await published; // A's 429 reached B's mirror
  return { a, b };
}

/** One turn on wall time (a ScaledClock): the job's answers take real milliseconds. */
async function wallTurn(chain: ChainLLM): Promise<string[]> {
  const heard: string[] = [];
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  for await (const chunk of chain.chat({ chatCtx: ctx })) if (isSourcedChunk(chunk)) heard.push(`${chunk.source}: ${chunk.delta?.content ?? ''}`);
  return heard;
}
