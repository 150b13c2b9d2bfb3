/**
 * `npm run bench:failover`: holdline's chain against LiveKit's `llm.FallbackAdapter` (defaults, and tuned with
 * the session's `llmConnOptions.maxRetry: 0`), OpenRouter's server-side `models[]` fallback, and holdline with
 * `models[]` inside its chain, in the same rehearsal session over the same backends, through
 * the same outages of the fake OpenRouter, at speed 1. Prints a table and writes bench/results/failover.json.
 * A benchmark: it reports numbers and never fails on one.
 *
 *   npm run bench:failover -- [--turns N] [--gap-ms 1000] [--only primary-429,outage-40s]
 *                             [--contenders holdline,fallback-default] [--out bench/results/failover.json]
 *                             [--events DIR]   (each cell's agent events, to trace a row)
 *
 * Turns: 5 per outage (10 for the flapping one) unless --turns says otherwise for all. A run with --only or
 * --contenders writes nothing unless --out is given (the committed file is a full run).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { ensureLlama, startLlamaServer, type LlamaServer } from '../tools/llama/index.js';
import { CONTENDERS } from './failover/contenders.js';
import { runCell, type CellResult } from './failover/run.js';
import { BENCH_SCENARIOS, PRIMARY, SECONDARY, type BenchScenario } from './failover/scenarios.js';
import { failoverTable } from './failover/table.js';
import { pick, runBench, wholeNumber } from './lib/args.js';

const DEFAULT_OUT = 'bench/results/failover.json';
// A made-up key: the fake accepts any; the bench checks nothing about it, the matrix and soak do.
const API_KEY = 'sk-or-v1-bench-0000000000000000';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      turns: { type: 'string' },
      'gap-ms': { type: 'string', default: '1000' },
      only: { type: 'string' },
      contenders: { type: 'string' },
      out: { type: 'string' },
      events: { type: 'string' },
    },
  });
  const turns = wholeNumber(values.turns ?? '5', '--turns');
  const gapMs = wholeNumber(values['gap-ms'], '--gap-ms');
  const scenarios = pick(BENCH_SCENARIOS, values.only, '--only');
  const contenders = pick(CONTENDERS, values.contenders, '--contenders');
  const out = values.out ?? (values.only || values.contenders ? undefined : DEFAULT_OUT);
  // LiveKit's own logger: quiet here (FallbackAdapter logs every failure at warn and error).
  process.env.LK_LOG_LEVEL ??= 'silent';
  const defaults = loadConfig({});

  let llama: LlamaServer | undefined;
  const cells: CellResult[] = [];
  const started = Date.now();
  // Other work on the machine stretches latencies: the load before and after goes in the results.
  const loadBefore = loadavg()[0];
  // As `uptime` prints it (1, 5 and 15 minutes): the machine is shared, so absolute latencies are noisy.
  const uptimeBefore = loadavg().map((l) => l.toFixed(2)).join(', ');
  try {
    if (scenarios.some((s) => s.local === 'llama')) {
      const { serverBin, modelPath } = await ensureLlama({ onProgress: (p) => console.error(`[llama] ${p.message}`) });
      llama = await startLlamaServer({ serverBin, model: modelPath });
    }
    for (const bench of scenarios) {
      for (const contender of contenders) {
        process.stderr.write(`${bench.id} / ${contender.id} ... `);
        const cell = await runCell({
          bench,
          contender,
          turns: values.turns === undefined ? (bench.turns ?? turns) : turns,
          gapMs,
          apiKey: API_KEY,
          ...(llama && { llama }),
          holdMessage: defaults.holdMessage,
          apologyMessage: defaults.apologyMessage,
          ...(values.events && { eventsDir: values.events }),
        });
        const s = cell.summary;
        process.stderr.write(`${s.answered} answered, ${s.apologies} apologies, ${s.silent} silent, ${s.closes} closes, ${(s.wallMs / 1000).toFixed(1)} s\n`);
        cells.push(cell);
      }
    }
  } finally {
    await llama?.stop();
  }

  const table = failoverTable(cells);
  console.log(`\n${table}\n`);
  console.log('Failed requests: chat requests that met a fault at the fake (error status, stall, ...), of all chat requests to it.');
  console.log('First audio: end of the user turn to the first audio (the hold counts); first answer: to the answer. Speed 1, wall clock.');
  console.log(`Silent: neither an answer nor the apology; cut off: still busy at the cap (${capsText(scenarios)}), counted silent.`);
  console.log('Holds: turns where the caller heard the hold; hedged: second requests for a late first token; recovery: outage end to the first answer after it.');
  console.log(`Load (uptime, 1/5/15 min): ${uptimeBefore} before, ${loadavg().map((l) => l.toFixed(2)).join(', ')} after.`);
  if (out) {
    const result = {
      benchmark: 'failover',
      generatedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, platform: process.platform, load1m: { before: loadBefore, after: loadavg()[0] }, uptimeLoad: { before: uptimeBefore, after: loadavg().map((l) => l.toFixed(2)).join(', ') } },
      speed: 1,
      turnsPerScenario: Object.fromEntries(cells.filter((c) => c.contender === contenders[0]?.id).map((c) => [c.scenario, c.summary.turns])),
      gapMs,
      chain: [PRIMARY, SECONDARY, 'local'],
      contenders: contenders.map(({ id, label }) => ({ id, label })),
      scenarios: scenarios.map(({ id, title, description, rules, local, capMs }) => ({ id, title, description, rules, local, capMs })),
      wallMs: Date.now() - started,
      cells,
      table,
    };
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${out}`);
  }
}

/** "30 s per turn (75 s for everything down for 40 s)". */
function capsText(scenarios: readonly BenchScenario[]): string {
  const common = scenarios[0]?.capMs ?? 0;
  const others = scenarios.filter((s) => s.capMs !== common).map((s) => `${s.capMs / 1000} s for ${s.title}`);
  return `${common / 1000} s per turn${others.length > 0 ? ` (${others.join(', ')})` : ''}`;
}

runBench(main);
