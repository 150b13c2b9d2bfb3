/** What the end-to-end tests share: the stacks they run on (chosen once) and running a library scenario on one. */
import { resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import type { Result } from '../../harness/result.js';
import { runScenario } from '../../harness/run.js';
import { chooseStack, type Chosen } from '../../harness/stack/choose.js';
import { containerStack } from '../../harness/stack/containers.js';
import { processStack } from '../../harness/stack/processes.js';
import { isFleet, type Stack } from '../../harness/stack/stack.js';
import { exclusive } from '../kit/exclusive.js';

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

/**
 * Plays a library scenario. On wall time it takes the machine to itself (exclusive.ts): a neighbour's CPU would
 * move its instants. On virtual time it does not: time stands still while anything works, so rehearsals side by
 * side keep their verdicts and bytes (the library's shards run in parallel).
 */
export async function rehearseLibrary(name: string, speed: number, stack: Stack): Promise<Result> {
  const file = resolveScenario(name);
  const play = () => runScenario(loadScenarioFile(file), file, { stack, speed });
  // A fleet on containers takes the lock on virtual time too: ten agent containers beside ten more would crowd two
  // cores past the clock's wall-time deadlines for Redis and for joining. One call does not: its image is built once
  // per run now (rig-image.ts, under a tag no two builds export), and it is as sound side by side as on processes.
  const alone = !stack.virtual || (stack.name === 'containers' && isFleetScenario(name));
  return alone ? exclusive(play) : play();
}

/** The stack's variant on virtual time, or undefined when it has none (inline is virtual already). */
export function virtualOf(stack: Stack): Stack | undefined {
  if (stack.name === 'inline') return undefined; // the library's own reference, played by every shard anyway
  if (stack.name === 'processes') return processStack({ virtual: true });
  if (stack.name === 'containers') return containerStack({ virtual: true });
  return undefined;
}

/** The stack's variant on wall time (inline has none: it is virtual time in this process). */
export function wallOf(stack: Stack): Stack {
  if (stack.name === 'processes') return processStack();
  if (stack.name === 'containers') return containerStack();
  return stack;
}

/** Per-scenario test timeout: the scenario's own length at this speed, plus starting the stack. */
export function timeoutFor(name: string, speed: number, stackName: Stack['name']): number {
  const scenario = loadScenarioFile(resolveScenario(name));
  // A fleet's last call plays its turns (calls - 1) staggers later.
  const lastTurn = scenario.user.reduce((max, turn) => Math.max(max, turn.atMs), 0) + (scenario.calls - 1) * scenario.staggerMs;
  // Containers: the first scenario also builds the image (npm ci) and pulls llama.cpp's; later ones hit the cache.
  const startup = stackName === 'containers' ? 1_200_000 : 90_000;
  // The runner's own cap is the last turn + 120 s of scenario time; allow for all of it.
  // Virtual time: the scenario's length costs no wall time, only the work in it.
  if (stackName === 'inline') return startup;
  return startup + (lastTurn + 120_000) / speed;
}

/** A fleet scenario (`calls` > 1 or `agent.redis`): it plays on processes (virtual time) and containers, not inline. */
export function isFleetScenario(name: string): boolean {
  return isFleet(loadScenarioFile(resolveScenario(name)));
}

/** What must not change between runs of one scenario: the verdict and what the caller heard, from whom. */
export function fingerprint(result: Result): { passed: boolean; heard: string[] } {
  return { passed: result.passed, heard: result.heard.map((h) => `${h.source}: ${h.text}`) };
}
