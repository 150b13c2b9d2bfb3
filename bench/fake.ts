/**
 * `npm run bench:fake`: how fast and how punctual the fake OpenRouter is on loopback. A benchmark, not a test:
 * numbers, never pass/fail. Writes bench/results/fake.json and prints the table the README shows.
 *
 * 1. Non-stream throughput and latency at concurrency 1, 16 and 64 (a fixed request count each, capped in time),
 *    against the fake and, in the same run, against mockttp serving the same canned completion bytes; three
 *    alternating rounds each, the median round reported.
 * 2. 200 concurrent streams scripted at ttft 200ms and 50 tokens/s, on connections opened beforehand: error of the
 *    observed ttft from the client's send and from the fake's receipt, and of the token cadence; one warm-up
 *    round, then three, the median reported; with the CPU time each side used and spent waiting for a CPU.
 * Each server runs in its own process (bench/fake/serve.ts), so the load generator never shares its event loop.
 *
 *   npm run bench:fake -- [--cpu-prof DIR] [--streams-only]
 *   (DIR gets a `node --cpu-prof` profile of each fake process; --streams-only prints part 2 and writes nothing)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Journal } from '../contract/journal.js';
import { cpuTime, cpuTimeSince, type CpuTime } from './fake/cpu-time.js';
import { runLoad, type LoadResult } from './fake/load.js';
import { serveInChild } from './fake/server-process.js';
import { round2 } from './fake/stats.js';
import { runStreams } from './fake/streams.js';

const MODEL = 'meta-llama/llama-3.3-70b-instruct:free';
const TEXT = 'Paris is the capital of France, and it has been for a very long time.';
const HEADERS = { Authorization: 'Bearer sk-or-v1-bench', 'Content-Type': 'application/json' };
const REQUEST = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'What is the capital of France?' }] });
const LOADS = [
  { concurrency: 1, requests: 2000 },
  { concurrency: 16, requests: 5000 },
  { concurrency: 64, requests: 5000 },
];
const MAX_MS_PER_LOAD = 15_000;
/** Rounds per load and server; the round with the median throughput is reported. */
const ROUNDS = 3;
const { values: args } = parseArgs({ options: { 'cpu-prof': { type: 'string' }, 'streams-only': { type: 'boolean' } } });
const profile = args['cpu-prof'] ? { cpuProfDir: args['cpu-prof'] } : {};
const STREAMS = { streams: 200, ttftMs: 200, tokensPerSecond: 50, tokens: 50 };
/** Measured rounds of the 200 streams (after one warm-up round); the round with the median p99 from the send is reported. */
const STREAM_ROUNDS = 3;

function medianRound(rounds: LoadResult[]): LoadResult {
  return [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(rounds.length / 2)] as LoadResult;
}

/** The scenario as JSON text (JSON is YAML), for the server process's command line. */
function scenario(reply: Record<string, unknown>): string {
  // Thousands of requests to a :free model on one key: the quota still counts them (its cost is measured) but
  // does not refuse them, as mockttp would not.
  return JSON.stringify({ name: 'bench', description: 'benchmark', seed: 1, agent: { models: [MODEL] }, fake: { reply, keepAliveEvery: '10s', account: { quota: false } } });
}

async function nonStream(): Promise<{ fake: LoadResult[]; mockttp: LoadResult[] }> {
  const fake = await serveInChild('fake', scenario({ text: TEXT, ttft: '0ms', tokensPerSecond: 1_000_000 }), profile);
  const dir = mkdtempSync(join(tmpdir(), 'bench-fake-'));
  let mock: Awaited<ReturnType<typeof serveInChild>> | undefined;
  try {
    const path = '/api/v1/chat/completions';
    // mockttp serves the fake's own answer, byte for byte, so both sides send the same payload.
    const canned = await (await fetch(`${fake.url}${path}`, { method: 'POST', headers: HEADERS, body: REQUEST })).text();
    writeFileSync(join(dir, 'canned.json'), canned);
    mock = await serveInChild('mockttp', join(dir, 'canned.json'));
    const results = { fake: [] as LoadResult[], mockttp: [] as LoadResult[] };
    for (const load of LOADS) {
      const common = { body: REQUEST, headers: HEADERS, maxMs: MAX_MS_PER_LOAD, warmup: 200, ...load };
      // Rounds alternate between the two servers so that a burst of other work on the machine hits both alike.
      const rounds = { fake: [] as LoadResult[], mockttp: [] as LoadResult[] };
      for (let round = 0; round < ROUNDS; round++) {
        rounds.fake.push(await runLoad({ url: `${fake.url}${path}`, ...common }));
        rounds.mockttp.push(await runLoad({ url: `${mock.url}${path}`, ...common }));
      }
      results.fake.push(medianRound(rounds.fake));
      results.mockttp.push(medianRound(rounds.mockttp));
    }
    return results;
  } finally {
    await mock?.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function streams() {
  const words = Array.from({ length: STREAMS.tokens }, (_, i) => `w${i}`).join(' ');
  const fake = await serveInChild('fake', scenario({ text: words, ttft: `${STREAMS.ttftMs}ms`, tokensPerSecond: STREAMS.tokensPerSecond }), profile);
  try {
    const body = JSON.stringify({ ...(JSON.parse(REQUEST) as object), stream: true });
    const round = async () => {
      let fakeBefore: CpuTime | undefined;
      let clientBefore: CpuTime | undefined;
      const result = await runStreams({
        url: `${fake.url}/api/v1/chat/completions`,
        body,
        headers: HEADERS,
        ...STREAMS,
        // The warm-up's requests leave the journal and the count of generations: the k-th stream handled is nth k.
        beforeStreams: async () => {
          await fetch(`${fake.url}/__fake/reset`, { method: 'POST' });
          fakeBefore = cpuTime(fake.pid);
          clientBefore = cpuTime(process.pid);
        },
        receipts: async () => {
          const journal = (await (await fetch(`${fake.url}/__fake/journal`)).json()) as Journal;
          return journal.entries.filter((e) => e.stream).map((e) => journal.originEpochMs + e.at);
        },
      });
      // CPU each side used for the streams, and how long each waited for one (the machine's load, not the code).
      return { ...result, cpu: { fake: cpuTimeSince(fakeBefore, fake.pid), client: cpuTimeSince(clientBefore, process.pid) } };
    };
    // The first round after the process started runs the stream path's code cold (still being compiled): not
    // measured, as a fake serving a fleet is warm.
    await round();
    const rounds = [];
    for (let i = 0; i < STREAM_ROUNDS; i++) rounds.push(await round());
    const median = [...rounds].sort((a, b) => a.ttftErrorMs.p99 - b.ttftErrorMs.p99)[Math.floor(rounds.length / 2)] as (typeof rounds)[number];
    return {
      ...median,
      rounds: rounds.map((r) => ({
        ttftErrorP99: r.ttftErrorMs.p99,
        ttftFromReceiptErrorP99: r.ttftFromReceiptErrorMs.p99,
        clientReadDelayP99: r.clientReadDelayMs.p99,
        cpu: r.cpu,
      })),
    };
  } finally {
    await fake.stop();
  }
}

// Other work on the machine shows in every number; the load average says how much there was.
const loadAverage1m = round2(loadavg()[0] ?? 0);
// As `uptime` prints it (1, 5, 15 min), before and after: the machine is shared, so compare ratios within a run.
const uptimeLoad = () => loadavg().map((l) => l.toFixed(2)).join(', ');
const uptimeBefore = uptimeLoad();
const cpuLine = (who: string, c: CpuTime | undefined) => (c ? `${who} ${c.cpuMs} ms on a CPU, ${c.runQueueMs} ms waiting for one` : `${who} (no schedstat)`);

function printStreams(stream: Awaited<ReturnType<typeof streams>>): void {
  console.log(`${stream.completed}/${stream.streams} streams at ttft ${STREAMS.ttftMs}ms, ${STREAMS.tokensPerSecond} tokens/s, ${stream.tokensPerStream} tokens each:`);
  console.log('| measure | p50 ms | p99 ms |');
  console.log('| --- | ---: | ---: |');
  console.log(`| ttft error from the client's send (first token - request written - scripted) | ${stream.ttftErrorMs.p50} | ${stream.ttftErrorMs.p99} |`);
  console.log(`| ttft error from the fake's receipt (first token - journal arrival - scripted) | ${stream.ttftFromReceiptErrorMs.p50} | ${stream.ttftFromReceiptErrorMs.p99} |`);
  console.log(`| send to receipt (request written - journal arrival) | ${stream.sendToReceiptMs.p50} | ${stream.sendToReceiptMs.p99} |`);
  console.log(`| the client's own delay in reading the first token (handled - start of its read phase) | ${stream.clientReadDelayMs.p50} | ${stream.clientReadDelayMs.p99} |`);
  console.log(`| ttft error from the send, first token at the start of the client's read phase | ${stream.ttftErrorAtClientReadMs.p50} | ${stream.ttftErrorAtClientReadMs.p99} |`);
  console.log(`| gap error (gap - ${1000 / STREAMS.tokensPerSecond}ms) | ${stream.gapErrorMs.p50} | ${stream.gapErrorMs.p99} |`);
  console.log(`| token lateness (vs its scripted instant from the send) | ${stream.latenessMs.p50} | ${stream.latenessMs.p99} |`);
  console.log(`\nthe client sent the ${STREAMS.streams} requests over ${stream.sendSpreadMs}ms and the fake read them over ${stream.receiptSpreadMs}ms (first to last); smallest send to receipt ${stream.sendToReceiptMinMs}ms.`);
  console.log(`${STREAM_ROUNDS} rounds after a warm-up round; the one shown has the median p99 from the send. Each round (p99 from send / from receipt / client's read delay):`);
  for (const r of stream.rounds) console.log(`  ${r.ttftErrorP99} / ${r.ttftFromReceiptErrorP99} / ${r.clientReadDelayP99} ms; ${cpuLine('fake', r.cpu.fake)}; ${cpuLine('client', r.cpu.client)}`);
  console.log(`load (uptime, 1/5/15 min): ${uptimeBefore} before, ${uptimeLoad()} after`);
}

if (args['streams-only']) {
  printStreams(await streams());
  process.exit(0);
}
const load = await nonStream();
const stream = await streams();
const result = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: platform(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverage1m,
    uptimeLoad: { before: uptimeBefore, after: uptimeLoad() },
  },
  nonStream: LOADS.map((l, i) => {
    const fake = load.fake[i] as LoadResult;
    const mockttp = load.mockttp[i] as LoadResult;
    return { concurrency: l.concurrency, fake, mockttp, fakeToMockttpThroughput: round2(fake.requestsPerSecond / mockttp.requestsPerSecond) };
  }),
  streams: { scripted: { ttftMs: STREAMS.ttftMs, tokensPerSecond: STREAMS.tokensPerSecond }, ...stream },
};

const target = join(dirname(fileURLToPath(import.meta.url)), 'results', 'fake.json');
writeFileSync(target, `${JSON.stringify(result, null, 2)}\n`);

console.log('| concurrency | fake req/s | fake p50 / p99 ms | mockttp req/s | mockttp p50 / p99 ms | fake / mockttp |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of result.nonStream) {
  const { fake, mockttp } = row;
  console.log(
    `| ${row.concurrency} | ${Math.round(fake.requestsPerSecond)} | ${fake.latencyMs.p50} / ${fake.latencyMs.p99} | ${Math.round(mockttp.requestsPerSecond)} | ${mockttp.latencyMs.p50} / ${mockttp.latencyMs.p99} | ${row.fakeToMockttpThroughput}x |`,
  );
}
console.log('');
printStreams(stream);
console.log(`\nwrote ${target}`);
