/**
 * When is a rehearsal over? When every user turn was played, the agent took up the last one, every turn it
 * took up has ended (answered, apologised or cancelled), and the speech has played out (the agent is back to
 * listening after the last turn ended). Pure: the player calls it after every event.
 */
import type { AgentEvent } from '../../contract/events.js';

/** A user turn as played: what was said and when the agent accepted it (its scenario ms). */
export interface PlayedTurn {
  /** Scenario ms it was due, from the scenario. */
  atMs: number;
  say: string;
  /** Scenario ms on the agent's clock when `POST /turns` accepted it. */
  acceptedAt: number;
}

/** What the rehearsal still waits for, in plain words; undefined when it is over. */
export function pending(events: readonly AgentEvent[], played: readonly PlayedTurn[], userTurns: number): string | undefined {
  if (played.length < userTurns) return `user turn ${played.length + 1} has not been played yet`;
  const last = played.at(-1);
  if (!last) return undefined;
  if (!events.some((e) => e.type === 'turn' && e.at >= last.acceptedAt)) return `the agent never took up the last turn ("${last.say}")`;

  const ended = new Set(events.flatMap((e) => (e.type === 'turn_end' ? [e.turnId] : [])));
  const open = events.find((e) => e.type === 'turn' && !ended.has(e.turnId));
  if (open && open.type === 'turn') return `${open.turnId} ("${open.text}") never ended`;

  const lastEnd = events.findLastIndex((e) => e.type === 'turn_end');
  const lastState = events.findLastIndex((e) => e.type === 'state');
  const state = events[lastState];
  if (state?.type !== 'state' || state.to !== 'listening' || lastState < lastEnd) {
    return `the agent was still ${state?.type === 'state' ? state.to : 'busy'} after the last turn ended`;
  }
  return undefined;
}
