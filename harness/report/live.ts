/**
 * What the runner prints while a rehearsal plays, one line per agent event as it arrives, so a person watching
 * at speed 1 sees the outage unfold second by second (the full timeline, with the fake's side, comes at the end).
 * Progress, not a record: it goes to stderr, beside the other `·` lines, and `--json` stays one object on stdout.
 *
 *     0.45s agent asks meta-llama/llama-3.3-70b-instruct:free: rate limited (429), cooling down until 2.45s
 *     0.54s agent holds (every backend failed this pass)
 *     0.64s..1.48s caller hears hold: "Hang on a sec."
 */
import type { AgentEvent, AttemptOutcome } from '../../contract/events.js';
import { quoted } from '../../contract/printable.js';
import { clock, seconds } from '../check/words.js';

const OUTCOME_WORDS: Record<AttemptOutcome, string> = {
  ok: 'answered',
  'rate-limit': 'rate limited',
  unavailable: 'unavailable',
  timeout: 'timed out',
  connection: 'unreachable',
  stall: 'stalled',
  malformed: 'malformed stream',
  account: 'account problem',
  'bad-request': 'bad request',
  cancelled: 'cancelled',
};

/** The line for one event, or undefined for events that would only be noise (state changes, turn bookkeeping). */
export function liveLine(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'attempt': {
      const who = event.backend === 'local' ? 'the local model' : event.model;
      const status = event.status !== undefined && event.outcome !== 'ok' ? ` (${event.status})` : '';
      const cooling = event.cooldownUntil !== undefined ? `, cooling down until ${seconds(event.cooldownUntil)}` : '';
      return `${clock(event.at)} agent asks ${who}: ${OUTCOME_WORDS[event.outcome]}${status}${cooling}`;
    }
    case 'skip':
      return `${clock(event.at)} agent skips ${event.backend === 'local' ? 'the local model' : event.model} (cooling down until ${seconds(event.cooldownUntil)})`;
    case 'policy':
      switch (event.step) {
        case 'hold':
          return `${clock(event.at)} agent holds (${event.reason})`;
        case 'wait':
          return `${clock(event.at)} agent waits until ${seconds(event.until ?? event.at)} (${event.reason})`;
        case 'apology':
          return `${clock(event.at)} agent gives up (${event.reason})`;
        case 'cancel':
          return `${clock(event.at)} agent drops the turn (${event.reason})`;
        case 'hedge':
          return `${clock(event.at)} agent hedges (${event.reason})`;
      }
      return undefined;
    case 'utterance':
      return `${clock(event.start)}..${clock(event.end)} caller hears ${event.source}: ${quoted(event.text)}${event.interrupted ? ' (cut off)' : ''}`;
    case 'close':
      return `${clock(event.at)} the agent's session closed (${event.reason})`;
    case 'tool':
      return `${clock(event.at)} agent runs ${event.name}(${quoted(event.arguments)})`;
    case 'turn_end':
      return event.outcome === 'silent' ? `${clock(event.at)} ${event.turnId} ends in silence: the caller heard nothing` : undefined;
    case 'turn':
    case 'state':
      return undefined;
  }
}
