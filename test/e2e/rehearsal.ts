/** What the end-to-end tests share: the stacks they run on (chosen once) and running a library scenario on one. */
import { resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import type { Result } from '../../harness/result.js';
import { runScenario } from '../../harness/run.js';
import { chooseStack, type Chosen } from '../../harness/stack/choose.js';
import type { Stack } from '../../harness/stack/stack.js';
import { exclusive } from './exclusive.js';

/** Accelerated speed for the library: 10 keeps the pipeline's wall latency (tens of ms) inside the windows. */
export const E2E_SPEED = Number(process.env.E2E_SPEED ?? 10);

let chosen: Promise<Chosen[]> | undefined;

/**
 * The stacks from E2E_STACK, announced once: processes, containers or auto (default) give one; `both` gives
 * processes and containers (both required), so the library runs on each and the two are compared.
 */
export function e2eStacks(choice = process.env.E2E_STACK ?? 'auto'): Promise<Chosen[]> {
  chosen ??= (choice === 'both' ? Promise.all([chooseStack('processes'), chooseStack('containers')]) : chooseStack(choice).then((c) => [c])).then((all) => {
    for (const c of all) console.log(`[e2e] ${c.note}`);
    return all;
  });
  return chosen;
}

export async function rehearseLibrary(name: string, speed: number, stack: Stack): Promise<Result> {
  const file = resolveScenario(name);
  return exclusive(() => runScenario(loadScenarioFile(file), file, { stack, speed }));
}

/** Per-scenario test timeout: the scenario's own length at this speed, plus starting the stack. */
export function timeoutFor(name: string, speed: number, stackName: 'processes' | 'containers'): number {
  const scenario = loadScenarioFile(resolveScenario(name));
  const lastTurn = scenario.user.reduce((max, turn) => Math.max(max, turn.atMs), 0);
  // Containers: the first scenario also builds the image (npm ci) and pulls llama.cpp's; later ones hit the cache.
  const startup = stackName === 'containers' ? 1_200_000 : 90_000;
  // The runner's own cap is the last turn + 120 s of scenario time; allow for all of it.
  return startup + (lastTurn + 120_000) / speed;
}

/** What must not change between runs of one scenario: the verdict and what the caller heard, from whom. */
export function fingerprint(result: Result): { passed: boolean; heard: string[] } {
  return { passed: result.passed, heard: result.heard.map((h) => `${h.source}: ${h.text}`) };
}
