/**
 * The fleet's verdict ends a wait, on a REAL Redis (redis-server, started per file) and wall time: a call holding
 * through a storm waits for its next pass; when another call's request to a model it has cooling succeeds (the shared
 * record is cleared), it asks that model at once instead of sleeping out its backoff or its recheck of the probe.
 * Before, bench:fleet's storm callers heard their answers up to a second after the fleet's probe had answered.
 */
import { llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { ScaledClock, VirtualClock, type Clock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';
import { loadConfig, type Config } from '../config.js';
import { driveUntil, rateLimited, redisForFile, ready, startJob, type JobOptions, type Script } from '../testing/shared-fleet.js';
import type { AttemptResult } from './attempt.js';
import { isSourcedChunk, type ChainLLM } from './chain-llm.js';

const KEY = 'sk-or-v1-verdict-secret';
const config = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: 'a/one,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
const fleetRedis = redisForFile();
/** Both models are rate limited for this long (Retry-After): far longer than the test, so only a verdict ends the wait. */
const RETRY_AFTER_MS = 60_000;
/**
 * Scenario time at a tenth of wall time: the held call's planned pass (when the down local server's first cooldown
 * ends, about 2 s of scenario time) is 20 s of wall time away, so a call that hears the verdict asks long before it
 * even on a crowded machine, and one that does not cannot pass by luck.
 */
const SPEED = 0.1;

/** Plays one turn: what the caller heard, and a way to hang up. */
function turn(chain: ChainLLM): { heard: Promise<string[]>; hangUp: () => void } {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  const stream = chain.chat({ chatCtx: ctx });
  const heard = (async () => {
    const out: string[] = [];
    for await (const chunk of stream) if (isSourcedChunk(chunk)) out.push(`${chunk.source}: ${chunk.delta?.content ?? ''}`);
    return out;
  })();
  return { heard, hangUp: () => stream.close() };
}

/** The first event of `chain` that `match` accepts, from now on. */
function next(chain: ChainLLM, match: (e: AgentEvent) => boolean): Promise<AgentEvent> {
  return new Promise((resolve) => {
    const stop = chain.options.events.subscribe((e) => {
      if (!match(e)) return;
      stop();
      resolve(e);
    });
  });
}

/** The local server is down: nothing listens. */
const down: AttemptResult = { cancelled: false, textSent: false, failure: { class: 'connection', detail: 'ECONNREFUSED', refused: true } };

/** Two "job processes" on one key and one Redis, on wall time at SPEED. */
async function pair<C extends Clock = ScaledClock>(options: { clock?: C; config?: Config; script: Script; streamMs?: number; endsWith?: JobOptions['endsWith']; freePerMinute?: number }) {
  const { clock = new ScaledClock(SPEED) as Clock as C, config: chainConfig = config, script, streamMs, endsWith, freePerMinute } = options;
  const store = { deadlineMs: 1_000, ...(freePerMinute !== undefined && { freePerMinute }) };
  const a = startJob({ clock, config: chainConfig, script, streamMs, endsWith, redisUrl: fleetRedis.server().url, apiKey: KEY, store });
  const b = startJob({ clock, config: chainConfig, script, streamMs, endsWith, redisUrl: fleetRedis.server().url, apiKey: KEY, store });
  fleetRedis.stores.push(a.store, b.store);
  await Promise.all([ready(a.store), ready(b.store)]);
  return { clock, a, b };
}

/** Both models answer 429 (Retry-After a minute) until `recover()`; the local server is down. */
async function twoCalls<C extends Clock = ScaledClock>(clock?: C) {
  let recovered = false;
  const calls = await pair({ ...(clock && { clock }), script: (backend) => (backend.kind === 'local' ? down : recovered ? 'ok' : rateLimited(RETRY_AFTER_MS)) });
  return { ...calls, recover: () => (recovered = true) };
}

describe("another call's success ends a held call's wait (real Redis, wall time)", () => {
  it('the held call asks the model that just answered elsewhere at once, long before its planned pass', async () => {
    const { clock, a, b, recover } = await twoCalls();
    const waiting = next(b.chain, (e) => e.type === 'policy' && e.step === 'wait');
    const { heard } = turn(b.chain);
    const wait = (await waiting) as Extract<AgentEvent, { type: 'policy' }> & { until: number };
    await b.store.idle(); // B's own failures are in Redis (and its mirror) before another call clears them
    expect(b.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two', 'local']); // all refused: held, waiting on the Retry-After
    expect(wait.until - clock.now()).toBeGreaterThan(1_000); // scenario ms: 10 s of wall time

    // Another call's request to a/one succeeds: its first token clears the fleet's record (ChainLLM.noteServing).
    recover();
    const asked = next(b.chain, (e) => e.type === 'attempt' && e.model === 'a/one' && e.outcome === 'ok');
    await a.store.clear('a/one');
    const answered = (await asked) as Extract<AgentEvent, { type: 'attempt' }>;
    expect(await heard).toEqual(['hold: Hang on a sec.', 'openrouter:a/one: answer from a/one']);
    expect(answered.at).toBeLessThan(wait.until);
    expect(b.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two', 'local', 'openrouter:a/one']);
  });

  it('a model the call does not have cooling, cleared elsewhere, does not end its wait', async () => {
    const { a, b, recover } = await twoCalls();
    const waiting = next(b.chain, (e) => e.type === 'policy' && e.step === 'wait');
    const { heard } = turn(b.chain);
    await waiting;
    await b.store.idle(); // B's own failures are in Redis (and its mirror) before another call clears them
    // c/three is no model of this chain: its record, booked and cleared by another call, is no news to B.
    await a.store.fail('c/three', { until: 1_000_000, cls: 'rate-limit' });
    await a.store.clear('c/three');
    // Then a/one's: B asks it, and had not woken before (a wake runs a pass: skips, then a second wait).
    recover();
    const asked = next(b.chain, (e) => e.type === 'attempt' && e.model === 'a/one' && e.outcome === 'ok');
    await a.store.clear('a/one');
    await asked;
    expect(await heard).toEqual(['hold: Hang on a sec.', 'openrouter:a/one: answer from a/one']);
    expect(b.seen.filter((e) => e.type === 'policy' && e.step === 'wait')).toHaveLength(1);
    expect(b.skips()).toEqual([]);
  });

  it("the fleet hears a model is back at its answer's first token, not when the answer ends", async () => {
    // a/one's answer streams for 2 s of scenario time (20 s of wall time) after its first token.
    const { a, b } = await pair({ script: () => 'ok', streamMs: 2_000 });
    // Another call's cooldown on a/one ended a second ago (its head start too): A's turn is the probe.
    const cleared = new Promise<void>((resolve) => b.store.mirror.once('cleared', () => resolve()));
    await b.store.fail('a/one', { until: -1_000, cls: 'rate-limit' });
    const settled = next(a.chain, (e) => e.type === 'turn_end');
    const { hangUp } = turn(a.chain);
    await cleared; // B's mirror: the record is gone while A's answer is still streaming
    expect(a.seen.filter((e) => e.type === 'turn_end' || e.type === 'attempt')).toEqual([]);
    expect(a.attempts).toEqual(['openrouter:a/one']);
    hangUp();
    expect(await settled).toMatchObject({ outcome: 'cancelled' });
  });

  it("a wait on the key's :free budget is not ended by a success on a :free model (it says nothing of the budget)", async () => {
    const freeConfig = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: 'a/one:free,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
    let recovered = false;
    const script: Script = (backend) => (backend.kind === 'local' ? down : backend.model === 'b/two' && !recovered ? rateLimited(RETRY_AFTER_MS) : 'ok');
    // One :free request a minute for the key.
    const { a, b } = await pair({ config: freeConfig, script, freePerMinute: 1 });
    expect(await turn(a.chain).heard).toEqual(['openrouter:a/one:free: answer from a/one:free']); // the minute's one request

    // B: the budget is spent (a/one:free skipped until the next slot), b/two is rate limited, no local server: it waits.
    const waiting = next(b.chain, (e) => e.type === 'policy' && e.step === 'wait');
    const { heard } = turn(b.chain);
    await waiting;
    await b.store.idle(); // B's own failures are in Redis (and its mirror) before another call clears them
    expect(b.skips().map((e) => e.model)).toEqual(['a/one:free']);
    // A success on a/one:free elsewhere (a request booked before the budget ran out) does not wake B ...
    await a.store.fail('a/one:free', { until: 1_000_000, cls: 'rate-limit' });
    await a.store.clear('a/one:free');
    // ... b/two's does: B asks it, after one wait (a wake runs a pass: a booking refused for the budget, then a second wait).
    recovered = true;
    const asked = next(b.chain, (e) => e.type === 'attempt' && e.model === 'b/two' && e.outcome === 'ok');
    await a.store.clear('b/two');
    await asked;
    expect(await heard).toEqual(['hold: Hang on a sec.', 'openrouter:b/two: answer from b/two']);
    expect(b.seen.filter((e) => e.type === 'policy' && e.step === 'wait')).toHaveLength(1);
  });

  it('a failure later in the answer cools the model again for the fleet, after its first token cleared it', async () => {
    const cut: AttemptResult = { cancelled: false, textSent: true, status: 200, failure: { class: 'unavailable', detail: 'mid-stream error: provider disconnected', status: 502 } };
    const { a, b } = await pair({ script: () => 'ok', streamMs: 500, endsWith: (backend) => (backend.model === 'a/one' ? cut : undefined) });
    const cleared = new Promise<void>((resolve) => b.store.mirror.once('cleared', () => resolve()));
    await b.store.fail('a/one', { until: -1_000, cls: 'rate-limit' }); // ended: A's turn is the probe
    const ended = next(a.chain, (e) => e.type === 'turn_end');
    const { heard } = turn(a.chain);
    await cleared; // at the first token
    expect(a.seen.some((e) => e.type === 'turn_end')).toBe(false);
    expect(await ended).toMatchObject({ outcome: 'apology' });
    expect(await heard).toEqual(['openrouter:a/one: answer from a/one', `apology: ${config.apologyMessage}`]);
    await a.store.idle();
    const [key] = await a.store.client.keys('holdline:cooldown:*a/one');
    expect(await a.store.client.hgetall(key as string)).toMatchObject({ cls: 'unavailable' });
  });

  it('on a clock that moves only when told, a success elsewhere does not cut the wait short (a rehearsal plays out one way)', async () => {
    const clock = new VirtualClock(0, Date.now());
    const { a, b, recover } = await twoCalls(clock);
    const stores = [a.store, b.store];
    const drive = (done: () => boolean) => driveUntil(clock, stores, done);
    let wait: (Extract<AgentEvent, { type: 'policy' }> & { until: number }) | undefined;
    void next(b.chain, (e) => e.type === 'policy' && e.step === 'wait').then((e) => (wait = e as typeof wait));
    const { heard } = turn(b.chain);
    await drive(() => wait !== undefined);
    const planned = (wait as NonNullable<typeof wait>).until;
    await b.store.idle(); // B's own failures are in Redis (and its mirror) before another call clears them

    recover();
    const cleared = new Promise<void>((resolve) => b.store.onCleared(() => resolve()));
    await a.store.clear('a/one');
    await cleared;
    // B heard it and sleeps on: no request until its planned pass, which asks a/one.
    expect(b.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two', 'local']);
    let asked: AgentEvent | undefined;
    void next(b.chain, (e) => e.type === 'attempt' && e.model === 'a/one' && e.outcome === 'ok').then((e) => (asked = e));
    await drive(() => asked !== undefined);
    expect(b.attempts).toEqual(['openrouter:a/one', 'openrouter:b/two', 'local', 'openrouter:a/one']);
    expect((asked as AgentEvent).at).toBeGreaterThanOrEqual(planned);
    expect(await heard).toEqual(['hold: Hang on a sec.', 'openrouter:a/one: answer from a/one']);
  });
});
