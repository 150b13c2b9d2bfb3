/**
 * A stack is what plays the outage: the fake OpenRouter, the agent in rehearsal mode and, when the scenario
 * asks for it, llama-server. The runner only needs their addresses and news of a crash; how they run (child
 * processes here, containers under Testcontainers) is the stack's business. Playing and checking a scenario
 * is the same code on every stack.
 */
import type { RehearsalClock } from '../../contract/clock.js';
import type { Scenario } from '../../contract/scenario/schema.js';

export interface StartRequest {
  scenario: Scenario;
  /** The scenario's file, for a fake that loads it itself. */
  scenarioFile: string;
  /** Scenario ms per wall ms, for the fake's and the agent's clocks alike. */
  speed: number;
  /** One line per long step (a build, waiting for health), for stderr. */
  progress: (line: string) => void;
  /** Aborting stops whatever was started and rejects. */
  signal?: AbortSignal;
  /** Absolute path of the user's agent module (`--agent`), rehearsed instead of holdline's own agent. */
  agentModule?: string;
}

/** A service that stopped while the rehearsal needed it. */
export interface ServiceFailure {
  /** "the agent", "the fake OpenRouter", "llama-server". */
  service: string;
  pid?: number;
  /** "with code 1", "on SIGKILL". */
  how: string;
  /** Its last output lines, secrets masked. */
  output: string[];
}

export interface RunningStack {
  /** The fake's root URL; its admin API is under `/__fake/`. */
  fakeUrl: string;
  /** The rehearsal agent's root URL (`/turns`, `/events`, `/reset`); call 1's in a fleet. */
  agentUrl: string;
  /**
   * A fleet (`calls` > 1): every call's agent, in call order (the first is `agentUrl`), each its own process on the
   * same fake and key. Absent: one call, at `agentUrl`.
   */
  callUrls?: string[];
  /** The Redis the calls share (`agent.redis`), for a scenario that takes it down mid-rehearsal. */
  redis?: RedisControl;
  /** Pids of everything started, by service name (processes only; empty for containers). */
  pids: Record<string, number>;
  /** Resolves when a service stops on its own; never resolves after `stop()` was called. */
  crashed: Promise<ServiceFailure>;
  /** Stops every service. Idempotent. */
  stop(): Promise<void>;
  /**
   * The clock the services share when they run in this process on virtual time (the inline stack): the runner
   * then waits on it too. Absent: scenario time is wall time times the speed.
   */
  clock?: RehearsalClock;
}

/** The rehearsal's Redis as the runner drives it: a crash (SIGKILL) and a start again on the same port, empty. */
export interface RedisControl {
  url: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

/** True when the scenario asks for more than holdline's one-call rehearsal: several calls, or a Redis they share. */
export function isFleet(scenario: Scenario): boolean {
  return scenario.calls > 1 || scenario.agent.redis !== false;
}

/**
 * Why a stack cannot play this fleet scenario, or undefined when it can (or the scenario is one call without
 * Redis). Virtual time in one process (inline) does not count Redis sockets as work in flight, nor other
 * processes' timers, and runs one agent: it says so rather than play it wrong. Processes (N agent processes, a
 * redis-server) and containers (N agent containers, the rig's redis service) play one.
 */
export function fleetProblem(scenario: Scenario, stack: Stack['name']): string | undefined {
  if (!isFleet(scenario) || stack !== 'inline') return undefined;
  const what = [scenario.calls > 1 && `calls: ${scenario.calls}`, scenario.agent.redis !== false && 'agent.redis'].filter(Boolean).join(' and ');
  return `${scenario.name} asks for ${what}, which the inline stack runs one agent in this process: play it with --stack processes (on virtual time: --speed virtual) or --stack containers`;
}

/** Where a rehearsal runs, as people ask for it (`--stack`, `E2E_STACK`); see choose.ts. */
export type StackChoice = 'processes' | 'containers' | 'inline' | 'auto';
export const STACK_CHOICES: readonly StackChoice[] = ['processes', 'containers', 'inline', 'auto'];

export interface Stack {
  readonly name: 'processes' | 'containers' | 'inline';
  /** Plays on virtual time (a clock that skips idle time) rather than wall time times the speed. */
  readonly virtual: boolean;
  /** Starts the services and waits until each is healthy. On failure nothing is left running. */
  start(request: StartRequest): Promise<RunningStack>;
}

/** "the agent (pid 123) stopped with code 1" and its last lines, for people. */
export function describeFailure(failure: ServiceFailure): string {
  const who = failure.pid ? `${failure.service} (pid ${failure.pid})` : failure.service;
  const tail = failure.output.length > 0 ? `\nits last output:\n${failure.output.map((l) => `  | ${l}`).join('\n')}` : '';
  return `${who} stopped unexpectedly ${failure.how}${tail}`;
}

/** The dummy key the agent gets: the fake accepts any key, and no real one is ever needed or printed. */
export const REHEARSAL_API_KEY = 'sk-or-v1-holdline-rehearsal';
