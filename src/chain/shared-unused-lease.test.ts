/**
 * What a turn booked with the fleet and did not use goes back (REAL Redis): a caller who moves on while Redis answers
 * sends nothing and gives its `:free` slot and lease back; a request that ends with no verdict (outrun by a hedge, or
 * cancelled with its turn) gives its probe lease back, so another call may probe at once instead of waiting the lease
 * out (up to the first-token deadline, every call looking again each second); and a failure that came before the
 * caller moved on is still the fleet's.
 */
import { llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import { loadConfig } from '../config.js';
import { driveUntil, playTurns, rateLimited, redisForFile, startFleet, type Job, type JobOptions } from '../testing/shared-fleet.js';
import type { Backend } from './backends.js';

const KEY = 'sk-or-v1-unused-lease-secret';
const fleetRedis = redisForFile();

async function fleet(models: string, n: number, options: Partial<JobOptions> = {}) {
  const config = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: models, LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1' });
  const clock = new VirtualClock(0, 1_700_000_000_000);
  const jobs = await startFleet(fleetRedis, n, { clock, config, script: () => 'ok', apiKey: KEY, store: { deadlineMs: 1_000 }, ...options });
  return { clock, jobs, stores: jobs.map((j) => j.store) };
}

/** Starts a turn on `chain` and returns its stream (read in the background) to close when the caller moves on. */
function turn(chain: Job['chain']): llm.LLMStream {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  const stream = chain.chat({ chatCtx: ctx });
  void (async () => {
    for await (const _chunk of stream);
  })().catch(() => undefined);
  return stream;
}

describe('what a turn booked and did not use goes back to the fleet (real Redis)', () => {
  it('the caller moves on while Redis books a :free slot: nothing is sent, and the slot goes back', async () => {
    const { clock, jobs, stores } = await fleet('a/one:free', 2, { store: { deadlineMs: 1_000, freePerMinute: 1 } });
    const [a, b] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    const current: { stream?: llm.LLMStream } = {};
    const book = a.store.book.bind(a.store);
    a.store.book = (...args) => {
      const booking = book(...args);
      current.stream?.close(); // the caller barges in while the booking's answer is on its way
      return booking;
    };
    current.stream = turn(a.chain);
    await driveUntil(clock, stores, () => a.seen.some((e) => e.type === 'turn_end'));
    expect(a.seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'cancelled' });
    expect(a.attempts).toEqual([]);
    // The key's one request of the minute is still there: B asks the model at once, not after the minute.
    expect(await playTurns(clock, [b.chain], stores)).toEqual([['openrouter:a/one:free: answer from a/one:free']]);
    expect(clock.now()).toBeLessThan(1_000);
  });

  it('a probe cancelled with its turn gives its lease back: another call probes at once', async () => {
    const { clock, jobs, stores } = await fleet('a/one', 2, { stalls: (b: Backend) => b.model === 'a/one' && clock.now() < 500 });
    const [a, b] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    // a/one's told cooldown ended at 0 and names nobody: whoever asks first takes the probe lease.
    await a.store.fail('a/one', { until: 0, cls: 'rate-limit' });
    await Promise.all(jobs.map((j) => j.chain.syncShared()));
    const stream = turn(a.chain);
    await driveUntil(clock, stores, () => a.attempts.length > 0 && a.store.holdsLease('a/one'));
    expect(a.store.holdsLease('a/one')).toBe(true);
    stream.close(); // the caller moves on before the probe's first token
    await driveUntil(clock, stores, () => a.seen.some((e) => e.type === 'turn_end'));
    await b.store.changes();
    expect(await b.store.claimProbe('a/one', clock.now() + 60_000)).toEqual({ granted: true });
  });

  it('an outrun hedge gives its lease back: another call probes at once', async () => {
    // a/one answers late (after the hedge delay); b/two, hedged, never speaks: the hedge is outrun.
    const { clock, jobs, stores } = await fleet('a/one,b/two', 2, { answerMs: 1_500, stalls: (b: Backend) => b.model === 'b/two' });
    const [a, b] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    await a.store.fail('b/two', { until: 0, cls: 'rate-limit' });
    await Promise.all(jobs.map((j) => j.chain.syncShared()));
    expect(await playTurns(clock, [a.chain], stores)).toEqual([['openrouter:a/one: answer from a/one']]);
    expect(a.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two']);
    await a.store.idle();
    await b.store.changes();
    expect(await b.store.claimProbe('b/two', clock.now() + 60_000)).toEqual({ granted: true });
  });

  it('a hedge that failed before the caller moved on is booked for the fleet', async () => {
    // a/one never speaks; b/two, hedged at the hedge delay, 429s (Retry-After 30 s) while a/one still runs.
    const { clock, jobs, stores } = await fleet('a/one,b/two', 2, {
      script: (b: Backend) => (b.model === 'b/two' ? rateLimited(30_000) : 'ok'),
      stalls: (b: Backend) => b.model === 'a/one',
    });
    const [a, b] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    const stream = turn(a.chain);
    await driveUntil(clock, stores, () => a.attempts.includes('openrouter:b/two') && clock.now() > 1_500);
    stream.close(); // the caller moves on with a/one still running
    await driveUntil(clock, stores, () => a.seen.some((e) => e.type === 'turn_end'));
    expect(a.seen.find((e) => e.type === 'attempt' && e.model === 'b/two')).toMatchObject({ outcome: 'rate-limit', hedge: true });
    await a.store.idle();
    await b.chain.syncShared();
    expect(b.chain.cooldowns.get('openrouter:b/two')).toMatchObject({ cls: 'rate-limit', until: expect.any(Number) as number });
  });
});
