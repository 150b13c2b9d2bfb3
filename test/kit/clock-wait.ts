/**
 * Waiting on the agent's scenario clock for a known instant (as a scenario script's `at:` does), never a guess:
 * the end of a fault window, or the moment some backend's cooldown is over.
 */
import type { RehearsalAgent } from '../../src/rehearsal/server.js';

export async function untilScenario(agent: RehearsalAgent, scenarioMs: number): Promise<void> {
  const remaining = scenarioMs - agent.clock.now();
  if (remaining > 0) await agent.clock.sleep(remaining);
}

/** Scenario ms at which at least one backend may be asked again (now, if one is not cooling down). */
export async function someBackendFreeAt(agent: RehearsalAgent): Promise<number> {
  const res = await fetch(`${agent.url}/llm/status`);
  const status = (await res.json()) as { at: number; backends: { coolingUntil?: number }[] };
  return Math.min(...status.backends.map((b) => b.coolingUntil ?? status.at));
}
