/**
 * Which stack a rehearsal runs on: `processes`, `containers`, or `auto` (the default) — from the runner's
 * `--stack` or the tests' `E2E_STACK`. `auto` picks containers only when everything the container stack needs
 * is really there (an engine, Compose v2, every image it names, Ryuk's image or Ryuk disabled), else
 * processes, and says which and why. `containers` when something is missing is an error, not a fallback: a run
 * that asked for containers must not pass on something else. The engine `npm run containers:prepare` started
 * is found through what it recorded.
 */
import { engineVersion } from '../../tools/containers/engine.js';
import { imagePresence, wantedImages } from '../../tools/containers/images.js';
import { composeVersion } from '../../tools/containers/plugins.js';
import { useRecordedEngine } from '../../tools/containers/state.js';
import { containerStack } from './containers.js';
import { inlineStack } from './inline.js';
import { processStack } from './processes.js';
import { REPO_ROOT } from './services.js';
import { fleetProblem, isFleet, type Stack, type StackChoice } from './stack.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { loadTestcontainers, TESTCONTAINERS_MISSING } from './testcontainers.js';
export { STACK_CHOICES, type StackChoice } from './stack.js';


/** What the container stack found: ready with a one-line description, or the first thing missing. */
export type Readiness = { ready: true; found: string } | { ready: false; problem: string };

/** A remote engine may not answer at all: give up on it after this long. */
const PROBE_TIMEOUT_MS = 15_000;

export interface Chosen {
  stack: Stack;
  /** Why this stack, in one line (printed by the runner and the tests). */
  note: string;
}

/**
 * @param choice processes, containers or auto
 * @param by who asked, for the messages: "E2E_STACK" or "--stack"
 */
export async function chooseStack(
  choice = process.env.E2E_STACK ?? 'auto',
  probe: () => Promise<Readiness> = containerReadiness,
  by = 'E2E_STACK',
  options: { virtual?: boolean } = {},
): Promise<Chosen> {
  if (choice === 'processes' && options.virtual) return { stack: processStack({ virtual: true }), note: `${by}=processes: child processes on loopback ports, on the runner's virtual time` };
  if (choice === 'processes') return { stack: processStack(), note: `${by}=processes: child processes on loopback ports` };
  if (choice === 'inline') return { stack: inlineStack(), note: `${by}=inline: the fake and the agent in this process, on virtual time` };
  if (choice !== 'containers' && choice !== 'auto') {
    throw new Error(`${by} must be processes, containers, inline or auto, got ${JSON.stringify(choice)}`);
  }
  const readiness = await probe();
  if (readiness.ready) {
    // Virtual only when asked by name (args.ts): auto keeps wall time.
    const virtual = choice === 'containers' && options.virtual === true;
    return { stack: containerStack({ virtual }), note: `${by}=${choice}: containers (docker-compose.test.yml)${virtual ? ", on the runner's virtual time" : ''}: ${readiness.found}` };
  }
  if (choice === 'containers') throw new Error(`${by}=containers, but the container stack cannot run here: ${readiness.problem}. Run \`npm run containers:prepare\` first.`);
  return { stack: processStack(), note: `${by}=auto: child processes, because the container stack cannot run here (${readiness.problem})` };
}

/**
 * The stack for a fleet scenario (`calls` > 1 or `agent.redis`): processes and containers play one, and `auto`
 * stays auto (containers when ready, else processes, as for one call). The inline stack cannot: as a default
 * (--json's) it becomes processes, saying why; asked for by name it is a usage problem, never a quiet switch. Any
 * other scenario keeps the choice as it was.
 */
export function fleetStackChoice(scenario: Scenario, choice: StackChoice, defaulted: boolean, by = '--stack'): { choice: StackChoice; note?: string } | { problem: string } {
  if (!isFleet(scenario) || choice !== 'inline') return { choice };
  if (defaulted) {
    return { choice: 'processes', note: `${by}=inline (the default): child processes, because ${scenario.name} is a fleet (calls: ${scenario.calls}${scenario.agent.redis === false ? '' : ', agent.redis'}), which the inline stack cannot play` };
  }
  return { problem: `${by} ${choice}: ${fleetProblem(scenario, choice) ?? 'not for a fleet'}` };
}

/** Engine, Compose v2 and every image the test stack names, checked for real (nothing is pulled or built). */
export async function containerReadiness(env: NodeJS.ProcessEnv = process.env): Promise<Readiness> {
  useRecordedEngine(env);
  const engine = await withTimeout(engineVersion(env), PROBE_TIMEOUT_MS);
  if (!engine) return { ready: false, problem: `no Docker engine answers at ${env.DOCKER_HOST ?? 'the default socket'}` };
  // Testcontainers must find it too (it reads DOCKER_HOST and its own configuration).
  const testcontainers = await loadTestcontainers();
  if (!testcontainers) return { ready: false, problem: TESTCONTAINERS_MISSING };
  const runtime = await withTimeout(testcontainers.getContainerRuntimeClient().then(() => 'ok').catch((error: Error) => error.message), PROBE_TIMEOUT_MS);
  if (runtime !== 'ok') return { ready: false, problem: `Testcontainers finds no engine: ${runtime ?? 'no answer'}` };
  const compose = await composeVersion(env);
  if (!compose) return { ready: false, problem: '`docker compose` is not Compose v2, which Testcontainers needs' };
  const missing: string[] = [];
  const standIns: string[] = [];
  for (const image of wantedImages(REPO_ROOT, env).filter((i) => i.forTests)) {
    const presence = await imagePresence(image.name, env);
    if (presence === undefined) missing.push(`${image.name} (${image.usedBy.join(', ')})`);
    else if (presence) standIns.push(image.name);
  }
  if (missing.length > 0) return { ready: false, problem: `image(s) not in the engine: ${missing.join(', ')}` };
  const ryuk = env.TESTCONTAINERS_RYUK_DISABLED === 'true' ? ', Ryuk disabled (no image)' : '';
  const stand = standIns.length > 0 ? `, offline stand-ins for ${standIns.join(' and ')}` : '';
  return { ready: true, found: `Docker ${engine}, Compose ${compose}, every image present${stand}${ryuk}` };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
