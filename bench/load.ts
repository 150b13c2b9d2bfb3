/**
 * `npm run bench:load`: the scenario library on the process stack beside CPU hogs, to count the verdicts a busy
 * machine flips. For every scenario it records whether it passed, and whether it passed only because the
 * processes' measured stalls explain a late utterance (harness/check/lateness.ts): "flips without accounting"
 * counts both, "flips" only the failures that remain. Writes bench/results/load.json. A benchmark: it reports
 * numbers and never fails on one.
 *
 *   npm run bench:load -- [--hogs 4] [--runs 1] [--speed 10] [--only calm-day,rate-limit-storm] [--out file]
 *
 * A hog is a child process spinning on one core; they are killed when the bench ends, however it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { libraryNames, resolveScenario } from '../contract/scenario/library.js';
import { loadScenarioFile } from '../contract/scenario/load.js';
import { runScenario } from '../harness/run.js';
import { processStack } from '../harness/stack/processes.js';

interface Row {
  scenario: string;
  run: number;
  passed: boolean;
  /** Passed only because measured stalls explain a late start. */
  explained: number;
  stallMs: number;
  failures: string[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { hogs: { type: 'string', default: '4' }, runs: { type: 'string', default: '1' }, speed: { type: 'string', default: '10' }, only: { type: 'string' }, out: { type: 'string' } },
  });
  const hogs = whole(values.hogs, '--hogs');
  const runs = whole(values.runs, '--runs');
  const speed = Number(values.speed);
  if (!(speed > 0)) throw new Error(`--speed: expected a positive number, got ${values.speed}`);
  const names = values.only ? values.only.split(',') : libraryNames();
  const out = values.out ?? (values.only ? undefined : 'bench/results/load.json');

  const spinning = startHogs(hogs);
  const stopHogs = () => spinning.forEach((h) => h.kill('SIGKILL'));
  process.once('exit', stopHogs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

  const rows: Row[] = [];
  const started = Date.now();
  const uptimeBefore = loadavg().map((l) => l.toFixed(2)).join(', ');
  try {
    for (let run = 1; run <= runs; run++) {
      for (const name of names) {
        const file = resolveScenario(name);
        const result = await runScenario(loadScenarioFile(file), file, { stack: processStack(), speed });
        const row = { scenario: name, run, passed: result.passed, explained: result.explained.length, stallMs: result.stallMs, failures: result.failures };
        rows.push(row);
        console.error(`${row.passed ? (row.explained ? 'passed (explained)' : 'passed') : 'FAILED'} ${name} run ${run}: ${row.stallMs} ms stalled${row.failures.map((f) => `\n    - ${f}`).join('')}`);
      }
    }
  } finally {
    stopHogs();
  }
  const summary = {
    hogs,
    runs,
    speed,
    cores: cpus().length,
    uptimeBefore,
    uptimeAfter: loadavg().map((l) => l.toFixed(2)).join(', '),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    rehearsals: rows.length,
    flipsWithoutAccounting: rows.filter((r) => !r.passed || r.explained > 0).length,
    flips: rows.filter((r) => !r.passed).length,
    stallMsMedian: median(rows.map((r) => r.stallMs)),
    stallMsMax: Math.max(0, ...rows.map((r) => r.stallMs)),
  };
  console.log(JSON.stringify(summary, null, 2));
  if (out) writeFileSync(out, `${JSON.stringify({ summary, rows }, null, 2)}\n`);
}

function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

function whole(text: string | undefined, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a whole number, got ${text}`);
  return n;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
