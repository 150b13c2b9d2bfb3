/**
 * The runner's virtual clock as a stack (processes or containers) runs it: a coordinator the fake and every
 * agent join (contract/time/coordinator.ts), each under a name of its own, and time moving only once all have
 * joined. One place for how both stacks name the participants and how a clock that cannot go on ends the rehearsal.
 */
import { Coordinator } from '../../contract/time/coordinator.js';
import { warmUp } from '../../contract/time/quiet.js';
import { StartError } from '../../tools/kit/start-error.js';
import { virtualClockFailure } from './clock-failure.js';
import type { ServiceFailure } from './stack.js';

/**
 * The clock name of call `call` (1-based) of `calls`: `agent`, or `agent-N` in a fleet. Ties between processes
 * go by name, so every stack must give the same names for the same rehearsal to take the same steps.
 */
export function agentClockName(call: number, calls: number): string {
  return calls > 1 ? `agent-${call}` : 'agent';
}

/** Everyone who must join before time moves: the fake and every call's agent. */
export function participantNames(calls: number): string[] {
  return ['fake', ...Array.from({ length: calls }, (_, i) => agentClockName(i + 1, calls))];
}

export interface StackClock {
  coordinator: Coordinator;
  /** What a participant gives as `--clock`. */
  address: string;
  /** Resolves when the clock cannot go on (stuck, a participant left), as a failed service. */
  failed: Promise<ServiceFailure>;
}

/**
 * Starts the coordinator on `host` (127.0.0.1 unless the participants cannot reach the host's loopback: see
 * containers.ts) after warming this process's HTTP client (quiet.ts `warmUp`).
 */
export async function startStackClock(host = '127.0.0.1'): Promise<StackClock> {
  await warmUp();
  const failure = virtualClockFailure();
  const coordinator = new Coordinator(failure.report);
  try {
    const address = await coordinator.listen(host);
    return { coordinator, address, failed: failure.failed };
  } catch (error) {
    await coordinator.stop();
    throw new StartError(`the virtual clock could not listen on ${host}: ${(error as Error).message}`);
  }
}

/**
 * Waits until the fake and every agent of `calls` joined, then starts time. Within `withinMs` (wall) when given:
 * a participant that never joins is a StartError naming it.
 */
export async function startWhenJoined(clock: StackClock, calls: number, withinMs?: number): Promise<void> {
  const names = participantNames(calls);
  const missing = new Set(names);
  const all = Promise.all(names.map((name) => clock.coordinator.joined(name).then(() => missing.delete(name))));
  let timer: NodeJS.Timeout | undefined;
  try {
    await (withinMs === undefined
      ? all
      : Promise.race([
          all,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new StartError(`never joined the virtual clock within ${withinMs / 1000} s: ${[...missing].join(', ')}`)), withinMs);
          }),
        ]));
  } finally {
    clearTimeout(timer);
  }
  clock.coordinator.start();
}

/** The stack's crash, or the clock's failure, whichever comes first; neither once the stack is stopping. */
export function crashOrClockFailure(crashed: Promise<ServiceFailure>, clock: StackClock | undefined, stopping: () => boolean): Promise<ServiceFailure> {
  if (!clock) return crashed;
  return Promise.race([crashed, clock.failed.then((failure) => (stopping() ? new Promise<never>(() => {}) : failure))]);
}
