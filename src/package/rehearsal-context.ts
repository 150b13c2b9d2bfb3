/**
 * The rehearsal a user's agent module is being built for, if any. `createHoldlineLLM` reads it so an agent
 * written for production (`createHoldlineLLM({ models })`) runs on the rehearsal's clock and timeline unchanged.
 * Set only while the rehearsal calls the module's factory.
 */
import type { Clock } from '../../contract/clock.js';
import type { AgentEvents } from '../chain/events.js';

export interface RehearsalContext {
  clock: Clock;
  events: AgentEvents;
}

let current: RehearsalContext | undefined;

export function currentRehearsal(): RehearsalContext | undefined {
  return current;
}

/** Runs `build` with `context` as the current rehearsal. */
export async function withRehearsal<T>(context: RehearsalContext, build: () => T | Promise<T>): Promise<T> {
  current = context;
  try {
    return await build();
  } finally {
    current = undefined;
  }
}
