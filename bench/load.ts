/**
 * `npm run bench:load`: the scenario library beside CPU hogs, to count the verdicts a busy machine flips, on
 * the process stack (wall time times the speed, or with `--stack processes-virtual` the runner's virtual time
 * shared across the processes) or the inline stack (virtual time, `--stack inline`), with the
 * wall time each rehearsal took. For every scenario it records whether it passed, and whether it passed only because the
 * processes' measured stalls explain a late utterance (harness/check/lateness.ts): "flips without accounting"
 * counts both, "flips" only the failures that remain. Writes bench/results/load.json. A benchmark: it reports
 * numbers and never fails on one.
 *
 *   npm run bench:load -- [--stack processes|processes-virtual|inline] [--hogs 4] [--runs 1] [--speed 10] [--only calm-day,...] [--out file]
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
import { toJson } from '../harness/result.js';
import { inlineStack } from '../harness/stack/inline.js';
import { processStack } from '../harness/stack/processes.js';
import { trackChild } from '../tools/kit/processes.js';

interface Row {
  scenario: string;
  run: number;
  passed: boolean;
  /** Passed only because measured stalls explain a late start. */
  explained: number;
  stallMs: number;
  /** Wall ms the rehearsal took, start-up included. */
  wallMs: number;
  /** Scenario ms until the last utterance ended. */
  scenarioMs: number;
  /** Its --json, for comparing runs. */
  json: string;
  failures: string[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { stack: { type: 'string', default: 'processes' }, hogs: { type: 'string', default: '4' }, runs: { type: 'string', default: '1' }, speed: { type: 'string', default: '10' }, only: { type: 'string' }, out: { type: 'string' } },
  });
  const hogs = whole(values.hogs, '--hogs');
  const runs = whole(values.runs, '--runs');
  const speed = Number(values.speed);
  if (!(speed > 0)) throw new Error(`--speed: expected a positive number, got ${values.speed}`);
  const names = values.only ? values.only.split(',') : libraryNames();
  const stackName = values.stack;
  if (stackName !== 'processes' && stackName !== 'processes-virtual' && stackName !== 'inline') throw new Error(`--stack: expected processes, processes-virtual or inline, got ${stackName}`);
  const stack = stackName === 'inline' ? inlineStack() : processStack({ virtual: stackName === 'processes-virtual' });
  const out = values.out ?? (values.only ? undefined : `bench/results/load-${stackName}.json`);

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
        const began = Date.now();
        const result = await runScenario(loadScenarioFile(file), file, { stack, speed });
        const asJson = toJson(result);
        // The stall measure is the machine's, not the rehearsal's: left out of the comparison between runs.
        const json = JSON.stringify({ ...asJson, timing: { ...asJson.timing, stallMs: 0 } });
        const scenarioMs = Math.max(0, ...result.heard.map((h) => h.end));
        const row = { scenario: name, run, passed: result.passed, explained: result.explained.length, stallMs: result.stallMs, wallMs: Date.now() - began, scenarioMs, json, failures: result.failures };
        rows.push(row);
        console.error(`${row.passed ? (row.explained ? 'passed (explained)' : 'passed') : 'FAILED'} ${name} run ${run}: ${row.wallMs} ms for ${row.scenarioMs} ms of scenario, ${row.stallMs} ms stalled${row.failures.map((f) => `\n    - ${f}`).join('')}`);
      }
    }
  } finally {
    stopHogs();
  }
  const firstRun = new Map(rows.filter((r) => r.run === 1).map((r) => [r.scenario, r.json]));
  const summary = {
    stack: stackName,
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
    /** Later runs whose --json (stall measure aside) differs from the first run's, byte for byte. */
    differentFromFirstRun: rows.filter((r) => r.run > 1 && r.json !== firstRun.get(r.scenario)).length,
    wallMsTotal: rows.reduce((sum, r) => sum + r.wallMs, 0),
    scenarioMsTotal: rows.reduce((sum, r) => sum + r.scenarioMs, 0),
    stallMsMedian: median(rows.map((r) => r.stallMs)),
    stallMsMax: Math.max(0, ...rows.map((r) => r.stallMs)),
  };
  console.log(JSON.stringify(summary, null, 2));
  if (out) writeFileSync(out, `${JSON.stringify({ summary, rows: rows.map(({ json: _json, ...row }) => row) }, null, 2)}\n`);
}

/** Tracked by the process kit: they die with the bench, even when it is SIGKILLed. */
function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => {
    const hog = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    trackChild(hog);
    return hog;
  });
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
