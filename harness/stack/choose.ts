/**
 * Which stack the end-to-end tests run on: `E2E_STACK=processes`, `containers`, or `auto` (the default):
 * containers where a Docker engine answers, else processes, saying so. `containers` without an engine is an
 * error, not a skip: a run that asked for containers must not pass on something else.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getContainerRuntimeClient } from 'testcontainers';
import { containerStack } from './containers.js';
import { processStack } from './processes.js';
import type { Stack } from './stack.js';

export type StackChoice = 'processes' | 'containers' | 'auto';

/** Testcontainers' own runtime detection answers at once when there is none; a remote engine may not. */
const PROBE_TIMEOUT_MS = 15_000;

export interface Chosen {
  stack: Stack;
  /** Why this stack, in one line (printed by the tests). */
  note: string;
}

export async function chooseStack(choice = process.env.E2E_STACK ?? 'auto', probe: () => Promise<string | undefined> = dockerProblem): Promise<Chosen> {
  if (choice === 'processes') return { stack: processStack(), note: 'E2E_STACK=processes: child processes on loopback ports' };
  if (choice !== 'containers' && choice !== 'auto') {
    throw new Error(`E2E_STACK must be processes, containers or auto, got ${JSON.stringify(choice)}`);
  }
  const problem = await probe();
  if (problem === undefined) return { stack: containerStack(), note: `E2E_STACK=${choice}: a Docker engine answers, using docker-compose.test.yml` };
  if (choice === 'containers') throw new Error(`E2E_STACK=containers, but no Docker engine answers: ${problem}`);
  return { stack: processStack(), note: `E2E_STACK=auto: no Docker engine answers (${problem}); falling back to child processes` };
}

/** Undefined when a container runtime answers and `docker compose` (which Testcontainers runs) exists, else why not. */
export async function dockerProblem(): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([getContainerRuntimeClient().then(() => undefined), timeout])) ?? (await composeProblem());
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/** An engine without the Compose v2 plugin cannot run docker-compose.test.yml. */
async function composeProblem(): Promise<string | undefined> {
  try {
    await promisify(execFile)('docker', ['compose', 'version'], { timeout: PROBE_TIMEOUT_MS });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    return `\`docker compose version\` failed (Testcontainers needs the Compose v2 plugin): ${stderr || (error as Error).message}`;
  }
}
