/**
 * What a shared record says, on a REAL Redis (redis-server, started per file), where the chain's own state and the
 * fleet's meet: a message older than this call's own write does not undo what it booked; a cooldown that is no
 * failure of the model's own (the key's free-models-per-min) leaves the fleet's streak as it is; a booking refused on
 * another call's cooldown books that cooldown as the record says (a guess stays a guess); a `:free` slot given back
 * leaves the day's count that this process writes back after a Redis restart.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import { loadConfig } from '../config.js';
import { redisForFile, ready, startJob, type Job } from '../testing/shared-fleet.js';
import type { Backend } from './backends.js';
import { PROBE_HEAD_START_MS } from './shared-cooldowns.js';

const KEY = 'sk-or-v1-records-secret';
const EPOCH = 1_700_000_000_000;
const configOf = (models: string) => loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: models, LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });

const fleetRedis = redisForFile();

/** What is shared, not how slow Redis may be: a deadline of a second, so a loaded machine cannot fall back in-process. */
const PATIENT_MS = 1_000;

async function calls(models: string, n = 2): Promise<{ clock: VirtualClock; jobs: Job[] }> {
  const clock = new VirtualClock(0, EPOCH);
  const jobs = Array.from({ length: n }, () =>
    startJob({ clock, config: configOf(models), script: () => 'ok', redisUrl: fleetRedis.server().url, apiKey: KEY, store: { deadlineMs: PATIENT_MS } }),
  );
  fleetRedis.stores.push(...jobs.map((j) => j.store));
  await Promise.all(jobs.map((j) => ready(j.store)));
  return { clock, jobs };
}

const backendOf = (job: Job, model: string): Backend => job.chain.options.backends.find((b) => b.model === model) as Backend;

/** Holds `job`'s next writes of one script on their way (as a slow network would) until `release` is called. */
function holdWrites(job: Job, command: 'holdlineFail' | 'holdlineClear'): { release: () => void } {
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const client = job.store.client;
  const send = client[command].bind(client);
  client[command] = async (...args: (string | number)[]) => {
    await gate;
    return send(...args);
  };
  return { release };
}

describe("a call's own write is newer than what the mirror heard before it landed (real Redis)", () => {
  it("another call's older failure, heard while this call's own 429 is on its way to Redis, does not shorten its cooldown", async () => {
    const { jobs } = await calls('a/one,b/two');
    const [a, b] = jobs as [Job, Job];
    const one = backendOf(a, 'a/one');
    const held = holdWrites(a, 'holdlineFail');
    // A's 429 at 100 says 30 s: booked in A's state at once, its write to Redis still on its way.
    a.chain.noteFailure(one, { cls: 'rate-limit', status: 429, retryAfterMs: 30_000 }, { class: 'rate-limit', detail: '429', status: 429 }, 100);
    // B's failure, older news (until 5 s), lands first: it is version 1, and A's mirror hears it.
    await b.store.fail('a/one', { until: 5_000, cls: 'rate-limit', streak: 1, since: 0 });
    await a.store.mirror.reached(1);
    await a.chain.syncShared();
    expect(a.chain.cooldowns.get(one.id)).toMatchObject({ until: 30_100 });

    // A's write lands (merged: the later end wins) and is what both calls follow.
    held.release();
    await a.store.idle();
    await Promise.all([a.store.mirror.reached(2), b.store.mirror.reached(2)]);
    await Promise.all([a.chain.syncShared(), b.chain.syncShared()]);
    expect(a.chain.cooldowns.get(one.id)).toMatchObject({ until: 30_100 });
    // B also waits for A's head start on the probe (A met the 429).
    expect(b.chain.cooldowns.get(one.id)).toMatchObject({ until: 30_100 + PROBE_HEAD_START_MS });
  });

  it("another call's failure, heard while this call's success is on its way, does not cool the model that just answered", async () => {
    const { jobs } = await calls('a/one,b/two');
    const [a, b] = jobs as [Job, Job];
    const one = backendOf(a, 'a/one');
    const held = holdWrites(a, 'holdlineClear');
    a.chain.noteServing(one); // its first token: the fleet's record is cleared (held on its way here)
    a.chain.noteSuccess(one, 10);
    // B's 429 was booked in Redis before A's success got there: Redis's last word will be A's success.
    await b.store.fail('a/one', { until: 5_000, cls: 'rate-limit', streak: 1, since: 0 });
    await a.store.mirror.reached(1);
    await a.chain.syncShared();
    expect(a.chain.cooldowns.has(one.id)).toBe(false);

    held.release();
    await a.store.idle();
    await Promise.all([a.store.mirror.reached(2), b.store.mirror.reached(2)]);
    await Promise.all([a.chain.syncShared(), b.chain.syncShared()]);
    expect(a.chain.cooldowns.has(one.id)).toBe(false);
    expect(b.chain.cooldowns.has(one.id)).toBe(false);
  });

  it("a clear that Redis did not take, then this call's failure of the same model, is not written back over the failure", async () => {
    const { jobs } = await calls('a/one,b/two');
    const [a] = jobs as [Job];
    const client = a.store.client;
    const send = client.holdlineClear.bind(client);
    let reset = (): void => undefined;
    const gate = new Promise<void>((resolve) => (reset = resolve));
    client.holdlineClear = async () => {
      await gate;
      throw new Error('connection reset');
    };
    // The answer's first token: its clear is on its way. A failure later in the same answer is booked, and lands first.
    const cleared = a.store.clear('a/one');
    expect(await a.store.fail('a/one', { until: 60_000, cls: 'unavailable', streak: 1, since: 0 })).toBe(true);
    reset();
    expect(await cleared).toBe(false);

    // Redis answers again: what this process learned meanwhile is written back. Its last word on a/one is the failure.
    client.holdlineClear = send;
    a.store.forgetPause();
    expect(await a.store.refresh()).toBe(true);
    const [key] = await client.keys('holdline:cooldown:*a/one');
    expect(await client.hgetall(key as string)).toMatchObject({ until: String(EPOCH + 60_000), cls: 'unavailable' });
  });
});

describe('what is written back after Redis did not answer is what it never took, not what the fleet has since changed (real Redis)', () => {
  /** Makes `job`'s next write of `command` fail (a reset connection), and returns the way back. */
  function failNext(job: Job, command: 'holdlineFail' | 'holdlineClear'): () => void {
    const client = job.store.client;
    const send = client[command].bind(client);
    client[command] = () => Promise.reject(new Error('connection reset'));
    return () => {
      client[command] = send;
      job.store.forgetPause();
    };
  }

  const recordOf = async (job: Job, model: string) => {
    const [key] = await job.store.client.keys(`holdline:cooldown:*${model}`);
    return key === undefined ? undefined : job.store.client.hgetall(key);
  };

  for (const closed of [false, true]) {
    it(`a blip${closed ? " that closed the mirror's connection (Redis kept its data)" : ''} does not write back a cooldown this call had from the fleet, which another call's success has since ended`, async () => {
      const { clock, jobs } = await calls('a/one,b/two');
      const [a, b] = jobs as [Job, Job];
      // A has a/one cooling from the fleet (B's 429), then B's probe answers: the fleet's record is gone. A has had no
      // decision since, so its own state still has a/one cooling.
      await b.store.fail('a/one', { until: 30_000, cls: 'rate-limit', streak: 1, since: 0 });
      await a.store.idle();
      await a.chain.syncShared();
      expect(a.chain.cooldowns.get('openrouter:a/one')).toMatchObject({ cls: 'rate-limit' });
      expect(await b.store.clear('a/one')).toBe(true);
      // One of A's writes meets a reset connection (its own b/two failure): Redis kept its data.
      if (closed) a.store.mirror.subscriber.emit('close');
      const back = failNext(a, 'holdlineFail');
      a.chain.noteFailure(backendOf(a, 'b/two'), { cls: 'unavailable', status: 502 }, { class: 'unavailable', detail: '502', status: 502 }, 10);
      await a.store.idle();
      back();
      await clock.advance(500);
      expect(await a.store.refresh()).toBe(true);
      // What Redis never took goes back (b/two), booked when it happened (at 0), not when it was written back; a/one,
      // back in the fleet, is not cooled again by A's stale copy.
      expect(await recordOf(a, 'b/two')).toMatchObject({ cls: 'unavailable', failAt: String(EPOCH) });
      expect(await recordOf(a, 'a/one')).toBeUndefined();
    });
  }

  it('a success written back after an outage does not erase a failure another call booked after it', async () => {
    const { clock, jobs } = await calls('a/one,b/two');
    const [a, b] = jobs as [Job, Job];
    // A's answer from a/one at 10: its clear meets a reset connection, and waits to be written back.
    await clock.advance(10);
    const back = failNext(a, 'holdlineClear');
    expect(await a.store.clear('a/one')).toBe(false);
    // At 100 B books a/one out, the model's last word: the key's free-models-per-min, as a key-wide cooldown is booked
    // (no streak, and the model's own older failure time kept as its since).
    await clock.advance(90);
    expect(await b.store.fail('a/one', { until: 60_000, cls: 'rate-limit', since: 0 })).toBe(true);
    back();
    expect(await a.store.refresh()).toBe(true);
    expect(await recordOf(a, 'a/one')).toMatchObject({ until: String(EPOCH + 60_000), cls: 'rate-limit' });
  });

  it('Redis lost its data meanwhile: every live cooldown this call holds goes back, the fleet forgot them all', async () => {
    const { jobs } = await calls('a/one,b/two');
    const [a] = jobs as [Job];
    a.chain.noteFailure(backendOf(a, 'a/one'), { cls: 'rate-limit', status: 429, retryAfterMs: 30_000 }, { class: 'rate-limit', detail: '429', status: 429 }, 10);
    await a.store.idle();
    expect(await recordOf(a, 'a/one')).toMatchObject({ cls: 'rate-limit' });
    // Redis is flushed (a restart without persistence), and one of A's calls failed meanwhile.
    await a.store.client.flushall();
    const back = failNext(a, 'holdlineFail');
    a.chain.noteFailure(backendOf(a, 'b/two'), { cls: 'unavailable', status: 502 }, { class: 'unavailable', detail: '502', status: 502 }, 20);
    await a.store.idle();
    back();
    expect(await a.store.refresh()).toBe(true);
    expect(await recordOf(a, 'a/one')).toMatchObject({ until: String(EPOCH + 30_010), cls: 'rate-limit' });
    expect(await recordOf(a, 'b/two')).toMatchObject({ cls: 'unavailable' });
  });
});

describe("the key's free-models-per-min cools the other :free models without touching their streak (real Redis)", () => {
  it("a model that never failed keeps no streak fleet-wide: another call's first failure of it is a first one", async () => {
    const { jobs } = await calls('a/one:free,b/two:free,c/paid');
    const [a, b] = jobs as [Job, Job];
    a.chain.noteFailure(
      backendOf(a, 'a/one:free'),
      { cls: 'rate-limit', status: 429, retryAfterMs: 5_000, keyWide: true },
      { class: 'rate-limit', detail: '429: free-models-per-min', status: 429, keyWide: true },
      0,
    );
    await a.store.idle();
    const [key] = await a.store.client.keys('holdline:cooldown:*b/two:free');
    expect(await a.store.client.hgetall(key as string)).toMatchObject({ until: String(EPOCH + 5_000) });
    expect(await a.store.client.hexists(key as string, 'streak')).toBe(0);

    await b.store.mirror.reached(2);
    await b.chain.syncShared();
    const two = backendOf(b, 'b/two:free');
    const cooled = b.chain.noteFailure(two, { cls: 'unavailable', status: 503 }, { class: 'unavailable', detail: '503', status: 503 }, 6_000);
    expect(cooled).toMatchObject({ streak: 1, guessed: true, until: 6_000 + b.chain.options.policy.unavailableCooldownMs });
  });

  it("a later end written without a streak (or with a shorter one) leaves the fleet's longer streak in Redis", async () => {
    const { jobs } = await calls('a/one:free,b/two:free');
    const [a, b] = jobs as [Job, Job];
    await b.store.fail('b/two:free', { until: 1_000, cls: 'unavailable', streak: 3, guessed: true, since: 0 });
    await a.store.fail('b/two:free', { until: 5_000, cls: 'rate-limit' });
    const [key] = await a.store.client.keys('holdline:cooldown:*b/two:free');
    expect(await a.store.client.hgetall(key as string)).toMatchObject({ until: String(EPOCH + 5_000), cls: 'rate-limit', streak: '3' });
    await a.store.fail('b/two:free', { until: 9_000, cls: 'rate-limit', streak: 2, since: 4_000 });
    expect(await a.store.client.hget(key as string, 'streak')).toBe('3');
  });
});

describe("a booking refused on another call's cooldown books it as the record says (real Redis)", () => {
  it('a guessed end stays a guess (the next ask is a probe), with the fleet’s streak and class', async () => {
    const { jobs } = await calls('a/one,b/two');
    const [a, b] = jobs as [Job, Job];
    const one = backendOf(b, 'a/one');
    // B's own cooldown of a/one ended at 0; meanwhile A guessed a longer one, which B's mirror has not brought yet.
    b.chain.cooldowns.set(one.id, { until: 0, cls: 'rate-limit', streak: 1, since: -1_000 });
    await a.store.fail('a/one', { until: 8_000, cls: 'timeout', streak: 2, guessed: true, since: 1_000 });
    expect(await b.chain.sharedHold(one, 2_000)).toEqual({ until: 8_000 });
    expect(b.chain.cooldowns.get(one.id)).toMatchObject({ until: 8_000, cls: 'timeout', streak: 2, guessed: true });
  });
});

describe('a :free slot given back (real Redis)', () => {
  it("leaves the day's count this process writes back after a Redis restart", async () => {
    const { jobs } = await calls('a/one:free,b/two', 1);
    const [a] = jobs as [Job];
    const booking = await a.store.book('a/one:free', { leaseEnd: 0, free: true });
    expect(booking).toMatchObject({ granted: true, slot: expect.any(String) });
    await a.store.giveBack('a/one:free', booking.granted ? booking.slot : undefined);
    const [dayKey] = await a.store.client.keys('holdline:free-day:*');
    expect(await a.store.client.hget(dayKey as string, 'used')).toBe('0');

    const down = new Promise((resolve) => a.store.once('down', resolve));
    await fleetRedis.server().kill();
    await down;
    const up = new Promise((resolve) => a.store.once('up', resolve));
    await fleetRedis.server().restart();
    await up;
    // Redis came back empty; what A wrote back is the day as it is: nothing used (no key written at all).
    expect(await a.store.client.hget(dayKey as string, 'used')).toBeNull();
  });
});
