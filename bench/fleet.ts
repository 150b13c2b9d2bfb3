/**
 * `npm run bench:fleet`: a fleet of concurrent calls (each its own agent process, as LiveKit runs them) on one key and
 * one fake OpenRouter, with per-call state (no REDIS_URL: today's default) against Redis-shared state (a real
 * redis-server), through (a) every model 429 for 30 s with Retry-After 5 s, (b) a free key (20 a minute) with the
 * fleet asking one turn a second, (c) Redis killed for 10 s in the middle of (a) (the Redis fleet only). Prints a table
 * and writes bench/results/fleet.json. A benchmark: it reports numbers against the targets, never fails on one.
 *
 *   npm run bench:fleet -- [--calls 20] [--speed 1] [--free-seconds 90] [--only storm,free-key,storm-redis-killed]
 *                          [--contenders per-call,redis] [--out bench/results/fleet.json]
 *
 * A run with other --calls, --speed, --only or --contenders writes nothing unless --out is given (the committed file
 * is a full run).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startAgentProcess, startFakeProcess, REPO_ROOT, type Started } from '../harness/stack/services.js';
import { closedPort } from '../src/testing/ports.js';
import { startRedisServer, type RedisServer } from '../src/testing/redis-server.js';
import { redisAlone, type AloneResult } from './fleet/redis-alone.js';
import { runCell, type Fleet, type FleetCase } from './fleet/run.js';
import { fleetTable, summarize, type CellSummary } from './fleet/summary.js';
import { pick, runBench, wholeNumber } from './lib/args.js';

const DEFAULT_OUT = 'bench/results/fleet.json';
const USAGE = `npm run bench:fleet -- [--calls 20] [--speed 1] [--free-seconds 90] [--only storm,free-key,storm-redis-killed]
                       [--contenders per-call,redis] [--out bench/results/fleet.json]
A run with other --calls, --speed, --only or --contenders writes nothing unless --out is given (the committed file is a full run).
Quick comparison: --calls 10 --contenders redis --only storm,free-key --free-seconds 40 (about 2 minutes).`;
/**
 * One key per contender: the fake counts each key's account apart, so what the first fleet spent of the free key's
 * day cannot reach the second through GET /key (which each agent asks at start, and which the fake's resets between
 * cells would then contradict).
 */
const apiKey = (contender: string) => `sk-or-v1-bench-fleet-${contender}-0000`;
const MODELS = 'bench/one:free,bench/two';
const scenario = (name: string) => resolve(REPO_ROOT, 'bench/fleet/scenarios', `${name}.yaml`);
/** Agents started at once: a 2-core machine compiles each one's TypeScript on start. */
const START_BATCH = 4;

function cases(freeSeconds: number): FleetCase[] {
  // The storm's calls arrive one after another over its first 20 s: each new call would rediscover it alone.
  const storm = (calls: number) => Array.from({ length: calls }, (_, call) => ({ call, at: Math.round((call * 20_000) / calls) }));
  return [
    { id: 'storm', title: 'every model 429 for 30 s, Retry-After 5 s', scenarioFile: scenario('storm'), turns: storm, capMs: 75_000, storm: { ms: 30_000, retryAfterMs: 5_000 } },
    {
      id: 'free-key',
      title: `a free key (20 a minute), one turn a second for ${freeSeconds} s`,
      scenarioFile: scenario('free-key'),
      turns: (calls) => Array.from({ length: freeSeconds }, (_, k) => ({ call: k % calls, at: k * 1_000 })),
      capMs: 30_000,
    },
    {
      id: 'storm-redis-killed',
      title: '(a) with Redis killed from 10 s to 20 s',
      scenarioFile: scenario('storm'),
      turns: storm,
      capMs: 75_000,
      storm: { ms: 30_000, retryAfterMs: 5_000 },
      redisDown: { from: 10_000, until: 20_000 },
    },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '20' },
      speed: { type: 'string', default: '1' },
      'free-seconds': { type: 'string', default: '90' },
      only: { type: 'string' },
      contenders: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const calls = wholeNumber(values.calls, '--calls', 1);
  const speed = Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`--speed: expected a positive number, got ${JSON.stringify(values.speed)}`);
  const freeSeconds = wholeNumber(values['free-seconds'], '--free-seconds', 1);
  const selected = pick(cases(freeSeconds), values.only, '--only');
  const contenders = pick([{ id: 'per-call' as const }, { id: 'redis' as const }], values.contenders, '--contenders').map((c) => c.id);
  const full = calls === 20 && speed === 1 && freeSeconds === 90 && !values.only && !values.contenders;
  const out = values.out ?? (full ? DEFAULT_OUT : undefined);
  const uptime = () => loadavg().map((l) => l.toFixed(2)).join(', ');
  const loadBefore = uptime();
  const started = Date.now();

  let redis: RedisServer | undefined;
  let fake: Started | undefined;
  const agents: Started[] = [];
  const rows: CellSummary[] = [];
  const cells = [];
  let alone: AloneResult | undefined;
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  try {
    redis = await startRedisServer();
    // The fake starts on the free key: an agent asks its account's daily :free limit at start (GET /key).
    fake = await startFakeProcess(scenario('free-key'), speed, () => undefined);
    const local = `http://127.0.0.1:${await closedPort()}/v1`;
    for (const contender of contenders) {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DOTENV_CONFIG_PATH: '/dev/null',
        LK_LOG_LEVEL: 'silent',
        LOG_LEVEL: 'info', // the agent says it is listening at info
        OPENROUTER_API_KEY: apiKey(contender),
        OPENROUTER_BASE_URL: `${fake.url}/api/v1`,
        LLM_MODEL: MODELS,
        // No local server: every answer is OpenRouter's (or the apology), so the numbers are the key's alone.
        LOCAL_LLM_BASE_URL: local,
        ...(contender === 'redis' && { REDIS_URL: redis.url }),
      };
      progress(`${contender}: starting ${calls} agent processes ...`);
      const fleetAgents: Started[] = [];
      for (let i = 0; i < calls; i += START_BATCH) {
        const batch = Array.from({ length: Math.min(START_BATCH, calls - i) }, () => startAgentProcess(env, speed, (l) => l, () => undefined));
        const ready = await Promise.allSettled(batch);
        for (const r of ready) if (r.status === 'fulfilled') fleetAgents.push(r.value);
        agents.push(...ready.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
        const failed = ready.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      const fleet: Fleet = { contender, fakeUrl: fake.url, agents: fleetAgents.map((a) => a.url), speed, ...(contender === 'redis' && { redis }) };
      for (const bench of selected) {
        if (bench.redisDown && contender !== 'redis') continue; // nothing to kill: the per-call fleet's (c) is its (a)
        process.stderr.write(`${bench.id} / ${contender} ... `);
        const cell = await runCell(fleet, bench, calls);
        const row = summarize(cell, bench);
        process.stderr.write(`${row.turns} turns, ${row.refused} refused, ${row.silent} silent, ${(row.wallMs / 1000).toFixed(1)} s\n`);
        rows.push(row);
        cells.push(cell);
      }
      await Promise.all(fleetAgents.map((a) => a.child.stop()));
      for (const a of fleetAgents) agents.splice(agents.indexOf(a), 1);
    }
    if (contenders.includes('redis')) {
      process.stderr.write('Redis alone (one process, fleets stopped) ... ');
      alone = await redisAlone(redis.url, apiKey('alone'), MODELS.split(','));
      process.stderr.write(`p50 ${alone.p50Ms} ms, p99 ${alone.p99Ms} ms (server side p99 ${alone.layers?.serverScript.p99Ms} ms)\n`);
    }
  } finally {
    await Promise.all(agents.map((a) => a.child.stop()));
    await fake?.child.stop();
    await redis?.stop();
  }

  const table = fleetTable(rows);
  console.log(`\n${table}\n`);
  console.log(`${calls} calls (agent processes) on one key, speed ${speed}; models ${MODELS}, no local server.`);
  console.log('Refused: chat requests the fake answered with an error status; quota 429s: those its free-model quota refused (no rule asked).');
  console.log('Dead requests: refused requests per model; the target for a storm is models x passes + the first discovery.');
  console.log('First answer: the turn to the first answer token (scenario ms); silent: no answer and no apology by the cap.');
  console.log("Answered after the storm's end: from the storm's end to each caller's first answer after it (scenario ms).");
  console.log('Redis per decision: wall time one decision of a turn waited on Redis (holdline_redis_decision_seconds, bucket upper bounds);');
  console.log('  bookings: the round trips alone (holdline_redis_booking_seconds): most decisions read the mirror and make none.');
  if (alone) {
    console.log(
      `Redis alone: ${alone.decisions} decisions in one process, turn about with the layers below (the mirror's changes and a :free slot each, deadline 1 s): p50 ${alone.p50Ms} ms, p99 ${alone.p99Ms} ms, max ${alone.maxMs} ms.`,
    );
    const layers = alone.layers;
    if (layers) {
      console.log(
        `  where it goes (p50 / p99 ms): Redis running the booking script ${layers.serverScript.p50Ms} / ${layers.serverScript.p99Ms} (server side);` +
          ` the script through ioredis alone ${layers.ioredisScript.p50Ms} / ${layers.ioredisScript.p99Ms}; a PING through ioredis ${layers.ioredisPing.p50Ms} / ${layers.ioredisPing.p99Ms};` +
          ` a decision beyond the script timed next to it ${layers.storeOver.p50Ms} / ${layers.storeOver.p99Ms};` +
          ` slowest 1 % of decisions overlapping a GC: ${layers.slowestWithGc}; event loop delay p99 ${layers.eventLoopDelayP99Ms} ms.`,
      );
    }
  }
  console.log(`Load (uptime, 1/5/15 min): ${loadBefore} before, ${uptime()} after; ${cpus().length} cores.`);
  if (out) {
    const result = {
      benchmark: 'fleet',
      generatedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, platform: process.platform, uptimeLoad: { before: loadBefore, after: uptime() } },
      calls,
      speed,
      models: MODELS.split(','),
      cases: selected.map(({ id, title, capMs, storm, redisDown }) => ({ id, title, capMs, storm, redisDown })),
      wallMs: Date.now() - started,
      rows,
      redisAlone: alone,
      cells,
      table,
    };
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${out}`);
  }
}

runBench(main);
