/**
 * `npm run soak -- --turns 1000 [--seed N] [--speed 50]`: holdline through a long random fault schedule (every
 * fault kind, random windows and probabilities, at the primary, the secondary, every OpenRouter model, the local
 * server or all of them), every invariant checked on every turn, memory before and after (after a GC: the npm
 * script runs node with --expose-gc). Prints a summary; exits 1 on any broken invariant, naming the seed and
 * turn to replay.
 */
import { parseArgs } from 'node:util';
import { sampleMemory, timersSettled } from './lib/memory.js';
import { runSoak } from './soak/run.js';
import { summary } from './soak/summary.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      turns: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      speed: { type: 'string', default: '50' },
    },
  });
  const turns = wholeNumber(values.turns, '--turns', 1);
  const seed = wholeNumber(values.seed, '--seed', 0);
  const speed = wholeNumber(values.speed, '--speed', 1);
  // LiveKit's own logger stays quiet; the agent's log is captured and checked, never printed.
  process.env.LK_LOG_LEVEL ??= 'silent';
  let lastPrint = 0;
  const report = await runSoak({
    turns,
    seed,
    speed,
    onTurn: (done, total) => {
      if (done === total || Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        console.error(`soak: ${done}/${total} turns`);
      }
    },
  });
  // Here, out of runSoak, nothing of the run is reachable but its report (once its last timers have fired).
  await timersSettled();
  report.memory.closed = sampleMemory();
  console.log(summary(report));
  for (const f of report.failures.slice(0, 20)) {
    console.log(`\nturn ${f.turn} (${f.phase}), ${f.segment}:\n  ${f.problems.join('\n  ')}`);
    console.log(`  replay: npm run soak -- --seed ${report.seed} --turns ${f.turn} --speed ${report.speed}`);
  }
  if (report.failures.length > 20) console.log(`\n... and ${report.failures.length - 20} more failing turns`);
  return report.failures.length === 0 ? 0 : 1;
}

function wholeNumber(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
