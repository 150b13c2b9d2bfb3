/**
 * One cell of bench:fleet: one contender's fleet (N agent processes on one fake and one key) through one case. The
 * fake and every agent are reset to the same scenario time 0, Redis is emptied, the turns are spoken on the wall
 * schedule (scenario time / speed), and each agent's event stream says what every caller heard. What reached the
 * fake comes from its journal; what Redis added to each decision from the agents' `holdline_redis_decision_seconds`
 * (the difference of two scrapes, summed over the fleet).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEvent } from '../../contract/events.js';
import type { Journal } from '../../contract/journal.js';
import type { RedisServer } from '../../src/testing/redis-server.js';

export interface FleetCase {
  id: 'storm' | 'free-key' | 'storm-redis-killed';
  title: string;
  /** The fake's scenario file. */
  scenarioFile: string;
  /** Scenario ms at which each call speaks, by call index (0-based), for `calls` calls. */
  turns: (calls: number) => { call: number; at: number }[];
  /** Scenario ms a turn may take before it counts as silent (cut off). */
  capMs: number;
  /** Redis killed at `from` and started again at `until` (scenario ms): only for a fleet that has Redis. */
  redisDown?: { from: number; until: number };
  /** The storm's length and Retry-After (scenario ms), for the target on dead requests. */
  storm?: { ms: number; retryAfterMs: number };
}

export interface Fleet {
  contender: 'per-call' | 'redis';
  fakeUrl: string;
  agents: string[];
  redis?: RedisServer;
  speed: number;
}

export interface TurnResult {
  call: number;
  /** Scenario ms the turn was spoken. */
  at: number;
  outcome: 'answered' | 'apology' | 'cancelled' | 'silent';
  /** Scenario ms from the turn to the first answer token, when answered. */
  firstAnswerMs?: number;
  held: boolean;
  /** Hedges in the turn: second requests started because the first had no token by its hedge delay. */
  hedged: number;
  /** Why the chain apologized (its policy event), when it did. */
  apologyReason?: string;
  /** The turn's first skip of each model, and until when (scenario ms): what the fleet's state made it pass over. */
  skipped?: Record<string, number>;
}

export interface CellResult {
  case: FleetCase['id'];
  contender: Fleet['contender'];
  calls: number;
  turns: TurnResult[];
  /** Chat requests the fake answered with an error status, by model and status. */
  refused: Record<string, Record<string, number>>;
  /** Of those, the fake's own free-model quota (no rule asked for them): self-inflicted 429s. */
  quota429: number;
  /** Chat requests by model. */
  requests: Record<string, number>;
  /** What Redis added to a decision, from the agents' histogram (counts per bucket upper bound, seconds). */
  redisDecision?: { count: number; buckets: [number, number][] };
  /** The decisions' booking round trips alone (`holdline_redis_booking_seconds`), the same way. */
  redisBooking?: { count: number; buckets: [number, number][] };
  /** Redis calls of the fleet that failed or missed their deadline, by reason (the chain went on without them). */
  redisFailures?: Record<string, number>;
  wallMs: number;
}

/** Runs one case on one fleet. */
export async function runCell(fleet: Fleet, bench: FleetCase, calls: number): Promise<CellResult> {
  const started = Date.now();
  const { fakeUrl, agents, speed } = fleet;
  const toWall = (scenarioMs: number) => scenarioMs / speed;
  await put(`${fakeUrl}/__fake/scenario`, readFileSync(bench.scenarioFile, 'utf8'), 'application/yaml');
  if (fleet.redis) await flushRedis(fleet.redis);
  const before = await redisHistograms(agents);
  // Time 0 a little ahead, so every reset lands before it: all clocks agree on scenario time.
  const t0 = Date.now() + 500;
  await post(`${fakeUrl}/__fake/reset`, { at: t0 });
  await Promise.all(agents.map((url) => post(`${url}/reset`, { at: t0 })));
  const streams = agents.map((url) => listen(url));
  const schedule = bench.turns(calls);
  const spoken = schedule.map(({ call, at }) =>
    sleep(Math.max(0, t0 + toWall(at) - Date.now())).then(() => post(`${agents[call] as string}/turns`, { text: 'What is the capital of France?' })),
  );
  const outage = fleet.redis && bench.redisDown ? redisOutage(fleet.redis, t0, bench.redisDown, speed) : Promise.resolve();
  await Promise.all(spoken);
  await outage;
  const lastAt = Math.max(...schedule.map((t) => t.at));
  // Every turn ends (answer or apology) well within its cap; wait for them all, or for the cap after the last one.
  const deadline = t0 + toWall(lastAt + bench.capMs);
  const perCall = await Promise.all(streams.map((s, call) => s.until(schedule.filter((t) => t.call === call).length, deadline)));
  const journal = (await (await fetch(`${fakeUrl}/__fake/journal`)).json()) as Journal;
  const after = await redisHistograms(agents);
  for (const s of streams) s.close();

  const turns = schedule.map(({ call, at }, i): TurnResult => {
    const nth = schedule.slice(0, i).filter((t) => t.call === call).length;
    return judge(perCall[call] ?? [], nth, call, at);
  });
  const chat = journal.entries.filter((e) => e.method === 'POST' && e.path.endsWith('/chat/completions'));
  const refused: CellResult['refused'] = {};
  const requests: CellResult['requests'] = {};
  let quota429 = 0;
  for (const e of chat) {
    const model = e.model ?? '(none)';
    requests[model] = (requests[model] ?? 0) + 1;
    if (!/^\d+$/.test(e.outcome) || Number(e.outcome) < 400) continue;
    (refused[model] ??= {})[e.outcome] = (refused[model]?.[e.outcome] ?? 0) + 1;
    if (e.outcome === '429' && e.rule === null) quota429 += 1;
  }
  return {
    case: bench.id,
    contender: fleet.contender,
    calls,
    turns,
    refused,
    quota429,
    requests,
    ...(fleet.redis && {
      redisDecision: subtract(after.decision, before.decision),
      redisBooking: subtract(after.booking, before.booking),
      redisFailures: failuresDelta(after.decision, before.decision),
    }),
    wallMs: Date.now() - started,
  };
}

/** One turn as its caller lived it: the `nth` turn of that call's event stream. */
function judge(events: AgentEvent[], nth: number, call: number, at: number): TurnResult {
  const turnId = events.filter((e) => e.type === 'turn')[nth]?.turnId;
  const mine = events.filter((e) => 'turnId' in e && e.turnId === turnId);
  const start = mine.find((e) => e.type === 'turn')?.at;
  const end = mine.find((e) => e.type === 'turn_end');
  const answer = mine.find((e): e is Extract<AgentEvent, { type: 'attempt' }> => e.type === 'attempt' && e.outcome === 'ok' && e.ttftMs !== undefined);
  const held = mine.some((e) => e.type === 'policy' && e.step === 'hold');
  const hedged = mine.filter((e) => e.type === 'attempt' && e.hedge === true).length;
  const apology = mine.find((e): e is Extract<AgentEvent, { type: 'policy' }> => e.type === 'policy' && e.step === 'apology');
  const outcome = end?.type === 'turn_end' && end.outcome !== null ? end.outcome : 'silent';
  const skips = mine.filter((e): e is Extract<AgentEvent, { type: 'skip' }> => e.type === 'skip');
  const firstAnswerMs = answer && start !== undefined ? answer.at - answer.latencyMs + (answer.ttftMs as number) - start : undefined;
  return {
    call,
    at,
    outcome: outcome as TurnResult['outcome'],
    held,
    hedged,
    ...(firstAnswerMs !== undefined && { firstAnswerMs: Math.round(firstAnswerMs) }),
    ...(apology && { apologyReason: apology.reason }),
    ...(skips.length > 0 && { skipped: Object.fromEntries(skips.reverse().map((e) => [e.model, e.cooldownUntil])) }),
  };
}

/** An agent's event stream since its reset, read as it comes (server-sent events). */
function listen(url: string): { until: (turnEnds: number, deadline: number) => Promise<AgentEvent[]>; close: () => void } {
  const events: AgentEvent[] = [];
  const controller = new AbortController();
  let wake = () => {};
  void (async () => {
    const response = await fetch(`${url}/events?since=0`, { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const frames = buffer.split('\n\n');
      buffer = frames.pop() ?? '';
      for (const frame of frames) {
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)) as AgentEvent);
      }
      wake();
    }
  })().catch(() => undefined);
  return {
    until: async (turnEnds, deadline) => {
      while (events.filter((e) => e.type === 'turn_end').length < turnEnds && Date.now() < deadline) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(Math.max(0, Math.min(1_000, deadline - Date.now())))]);
      }
      return [...events];
    },
    close: () => controller.abort(),
  };
}

async function redisOutage(redis: RedisServer, t0: number, down: { from: number; until: number }, speed: number): Promise<void> {
  await sleep(Math.max(0, t0 + down.from / speed - Date.now()));
  await redis.kill();
  await sleep(Math.max(0, t0 + down.until / speed - Date.now()));
  await redis.restart();
}

async function flushRedis(redis: RedisServer): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

type Histogram = { count: number; buckets: Map<number, number>; failures: Map<string, number> };

/** The fleet's `holdline_redis_decision_seconds` and `holdline_redis_booking_seconds`, summed over its agents. */
async function redisHistograms(agents: string[]): Promise<{ decision: Histogram; booking: Histogram }> {
  const texts = await Promise.all(agents.map(async (url) => (await fetch(`${url}/metrics`)).text()));
  return { decision: histogram(texts, 'holdline_redis_decision_seconds'), booking: histogram(texts, 'holdline_redis_booking_seconds') };
}

/** One histogram summed over the agents' scrapes (cumulative bucket counts by `le`), with the Redis failures. */
function histogram(texts: string[], name: string): Histogram {
  const sum: Histogram = { count: 0, buckets: new Map(), failures: new Map() };
  for (const text of texts) {
    for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      sum.buckets.set(le, (sum.buckets.get(le) ?? 0) + Number(m[2]));
    }
    // By operation and reason ('book timeout', 'fail timeout'): whether a decision's booking missed the deadline or a
    // write beside the turn did says apart what a turn paid from what it did not wait for.
    for (const m of text.matchAll(/^holdline_redis_failures_total\{op="([^"]*)",reason="([^"]+)"\} (\d+)$/gm)) {
      const label = `${m[1]} ${m[2]}`;
      sum.failures.set(label, (sum.failures.get(label) ?? 0) + Number(m[3]));
    }
    const count = new RegExp(`^${name}_count (\\d+)$`, 'm').exec(text);
    if (count) sum.count += Number(count[1]);
  }
  return sum;
}

function failuresDelta(after: Histogram, before: Histogram): Record<string, number> {
  return Object.fromEntries([...after.failures].map(([reason, n]) => [reason, n - (before.failures.get(reason) ?? 0)]).filter(([, n]) => (n as number) > 0));
}

function subtract(after: Histogram, before: Histogram): NonNullable<CellResult['redisDecision']> {
  const buckets = [...after.buckets].sort(([a], [b]) => a - b).map(([le, n]): [number, number] => [le, n - (before.buckets.get(le) ?? 0)]);
  return { count: after.count - before.count, buckets };
}

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
}

async function put(url: string, body: string, type: string): Promise<void> {
  const response = await fetch(url, { method: 'PUT', headers: { 'content-type': type }, body });
  if (!response.ok) throw new Error(`PUT ${url} answered ${response.status}: ${await response.text()}`);
}
