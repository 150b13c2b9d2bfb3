/**
 * Test kit for the fleet's shared store on a real Redis: "job processes" (each its own chain, in-process state, Redis
 * connection, events and log lines) on one virtual clock, and a driver that plays turns on them moving virtual time
 * only when every chain waits on the clock and no Redis call is under way (`idle`), so timelines are exact whatever
 * the machine's load.
 */
import { llm } from '@livekit/agents';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Clock, VirtualClock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';
import type { Config } from '../config.js';
import type { AttemptRequest, AttemptResult } from '../chain/attempt.js';
import type { Backend } from '../chain/backends.js';
import { isSourcedChunk, type ChainLLM } from '../chain/chain-llm.js';
import { createChain } from '../chain/create.js';
import { AgentEvents } from '../chain/events.js';
import { SharedCooldowns, type SharedCooldownsOptions } from '../chain/shared-cooldowns.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

/** What a backend answers `answerMs` after a request, at scenario ms `now`: a failure, or 'ok' (an answer). */
export type Script = (backend: Backend, now: number) => AttemptResult | 'ok';

export const rateLimited = (retryAfterMs: number): AttemptResult => ({
  cancelled: false,
  textSent: false,
  failure: { class: 'rate-limit', detail: '429 rate limited', status: 429, retryAfterMs },
});

export interface JobOptions {
  /** A VirtualClock (playTurns moves it), or a ScaledClock for wall time. */
  clock: Clock;
  config: Config;
  script: Script;
  redisUrl: string;
  apiKey: string;
  answerMs?: number;
  /** Backends that send no token at all (until the request is cancelled): what a hedge is for. */
  stalls?: (backend: Backend) => boolean;
  /** Scenario ms an answer streams after its first token before it ends (a spoken answer takes seconds). */
  streamMs?: number;
  /** How an answer ends after its first token and `streamMs`: a failure part way (undefined: it ends whole). */
  endsWith?: (backend: Backend) => AttemptResult | undefined;
  store?: Partial<Pick<SharedCooldownsOptions, 'freePerMinute' | 'freePerDay' | 'deadlineMs'>>;
}

export type Job = ReturnType<typeof startJob>;

/** One "job process" of a fleet. Close its store when done (`store.close()`). */
export function startJob({ clock, config, script, redisUrl, apiKey, answerMs = 10, stalls = () => false, streamMs = 0, endsWith, store: storeOptions = {} }: JobOptions) {
  const lines: { msg: string; redis?: string; detail?: string; freePerDay?: number; source?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  const store = new SharedCooldowns({ redis: redisUrl, apiKey, clock, freePerMinute: 20, ...storeOptions, log: pino({ level: 'info' }, sink) });
  const events = new AgentEvents(clock);
  const seen: AgentEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const attempts: string[] = [];
  const chain = createChain(
    config,
    clock,
    events,
    async (req: AttemptRequest) => {
      attempts.push(req.backend.id);
      await clock.sleep(stalls(req.backend) ? 3_600_000 : answerMs, req.signal).catch(() => undefined);
      if (req.signal.aborted) return { cancelled: true, textSent: false };
      const result = script(req.backend, clock.now());
      if (result !== 'ok') return result;
      req.onChunk({ id: 'gen', delta: { role: 'assistant', content: `answer from ${req.backend.model}` } });
      if (streamMs > 0) await clock.sleep(streamMs, req.signal).catch(() => undefined);
      if (req.signal.aborted) return { cancelled: true, textSent: true };
      return endsWith?.(req.backend) ?? { cancelled: false, textSent: true, status: 200, ttftMs: answerMs };
    },
    store,
  );
  const skips = () => seen.filter((e): e is Extract<AgentEvent, { type: 'skip' }> => e.type === 'skip');
  // Bookings the store made (round trips to Redis for a lease or a :free slot), from its start.
  let bookings = 0;
  store.on('booking', () => (bookings += 1));
  return { chain, store, seen, attempts, lines, skips, bookings: () => bookings };
}

/** `n` job processes of one fleet, on one clock and config, their stores closed after the test (`redisForFile`), each ready. */
export async function startFleet(redis: ReturnType<typeof redisForFile>, n: number, options: Omit<JobOptions, 'redisUrl'>): Promise<Job[]> {
  const jobs = Array.from({ length: n }, () => startJob({ ...options, redisUrl: redis.server().url }));
  redis.stores.push(...jobs.map((j) => j.store));
  await Promise.all(jobs.map((j) => ready(j.store)));
  return jobs;
}

/** The store answers and its mirror follows Redis (subscribed, first snapshot read): decisions read memory. */
export const ready = async (store: SharedCooldowns): Promise<void> => {
  if (store.client.status !== 'ready') await new Promise<void>((resolve) => store.client.once('ready', () => resolve()));
  if (!store.mirror.live) await new Promise<void>((resolve) => store.mirror.once('live', () => resolve()));
};

/** Plays one turn on each chain at once; virtual time moves only when no Redis call is under way. */
export async function playTurns(clock: VirtualClock, chains: ChainLLM[], stores: SharedCooldowns[]): Promise<string[][]> {
  const heard = chains.map(() => [] as string[]);
  let done = 0;
  const readers = chains.map(async (chain, i) => {
    const ctx = llm.ChatContext.empty();
    ctx.addMessage({ role: 'user', content: 'What is the capital of France?' });
    for await (const chunk of chain.chat({ chatCtx: ctx })) if (isSourcedChunk(chunk)) heard[i]?.push(`${chunk.source}: ${chunk.delta?.content ?? ''}`);
    done += 1;
  });
  await driveUntil(clock, stores, () => done === chains.length, 20_000);
  await Promise.all(readers);
  return heard;
}

/**
 * Moves virtual time one timer at a time until `done` (at most `steps` moves), and only when no Redis call is under
 * way: a reply on its way is work the clock cannot see.
 */
export async function driveUntil(clock: VirtualClock, stores: readonly SharedCooldowns[], done: () => boolean, steps = 2_000): Promise<void> {
  for (let i = 0; i < steps && !done(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await Promise.all(stores.map((s) => s.idle()));
    await new Promise((resolve) => setImmediate(resolve));
    if (done() || stores.some((s) => s.busy)) continue;
    if (clock.nextAt !== undefined) await clock.advanceToNext();
  }
}

/**
 * A real Redis for the test file (started before its tests, stopped after) and the stores its tests open (listed in
 * `stores`): each test ends with Redis flushed and those stores closed.
 */
export function redisForFile(): { server: () => RedisServer; stores: SharedCooldowns[] } {
  let redis: RedisServer | undefined;
  const stores: SharedCooldowns[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) {
      await store.client.flushall().catch(() => undefined);
      await store.close();
    }
  });
  return {
    server: () => {
      if (!redis) throw new Error('Redis is started in beforeAll: use it inside a test');
      return redis;
    },
    stores,
  };
}
