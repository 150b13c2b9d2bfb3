/**
 * One rehearsal from start to verdict, on any stack: start the services, play the scenario, judge it, and
 * stop everything, whatever happened in between.
 */
import type { Scenario } from '../contract/scenario/schema.js';
import { rehearse } from './play/rehearse.js';
import { judge, type Result } from './result.js';
import type { RunningStack, Stack } from './stack/stack.js';

export interface RunOptions {
  stack: Stack;
  /** Scenario ms per wall ms. */
  speed: number;
  /** Aborting (Ctrl-C) stops the services and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Long steps, one line each (for stderr). */
  progress?: (line: string) => void;
  /** The user's agent module (`--agent`), absolute, rehearsed instead of holdline's own agent. */
  agentModule?: string;
  /** Called once the services are up, with their pids (for people and for tests that watch them). */
  onStarted?: (running: RunningStack) => void;
}

/**
 * Rejects with a `StartError` when a service cannot start, a `ServiceCrashed` when one dies mid-rehearsal,
 * or the abort reason; in every case nothing it started is left running.
 */
export async function runScenario(scenario: Scenario, scenarioFile: string, options: RunOptions): Promise<Result> {
  const { stack, speed, signal, progress = () => {} } = options;
  const running = await stack.start({ scenario, scenarioFile, speed, progress, ...(signal && { signal }), ...(options.agentModule && { agentModule: options.agentModule }) });
  try {
    options.onStarted?.(running);
    progress(`playing ${scenario.name} at speed ${speed}`);
    const recording = await rehearse(running, scenario, { speed, progress, ...(signal && { signal }) });
    return judge(scenario, speed, recording);
  } finally {
    await running.stop();
  }
}
