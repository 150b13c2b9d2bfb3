/**
 * The rehearsal as one list of things on a time axis, for the text timeline and the HTML report alike:
 * what the caller said, each request (OpenRouter's from the fake's journal, the local server's from the
 * agent's events, since those never reach the fake), each policy step, and each utterance. In a fleet every
 * item a call's agent reported carries its `call` (its lane); OpenRouter's requests are the fleet's (one key,
 * one journal) and carry none, and the rehearsal's Redis outages are items of their own.
 */
import { callsOf } from '../play/rehearse.js';
import type { Result } from '../result.js';

/** `call`: in a fleet, the call whose agent reported it (1-based); absent for one call and for fleet-wide items. */
type OfCall = { call?: number };
export type TimelineItem = OfCall &
  (
    | { kind: 'caller'; at: number; text: string }
    | { kind: 'request'; at: number; end: number | null; backend: 'openrouter' | 'local'; model: string; outcome: string }
    | { kind: 'policy'; at: number; step: 'wait' | 'apology' | 'cancel'; until?: number; reason: string }
    /** A turn that ended with nothing said (a rehearsed agent on another LLM, e.g. LiveKit's FallbackAdapter). */
    | { kind: 'silence'; at: number; from: number; turnId: string }
    | { kind: 'speech'; at: number; end: number; source: string; text: string; interrupted: boolean }
    /** The rehearsal's Redis was down (`agent.redis.down`) from `at` to `until`. */
    | { kind: 'redis'; at: number; until: number }
  );

const ORDER: Record<TimelineItem['kind'], number> = { redis: 0, caller: 0, request: 1, policy: 2, silence: 2, speech: 3 };

export function timelineOf(result: Result): TimelineItem[] {
  const { recording } = result;
  const items: TimelineItem[] = [];
  for (const e of recording.journal.entries) {
    if (!e.path.endsWith('/chat/completions')) continue;
    const end = e.durationMs === null ? null : e.at + e.durationMs;
    items.push({ kind: 'request', at: e.at, end, backend: 'openrouter', model: e.model ?? '(no model)', outcome: e.outcome });
  }
  for (const outage of recording.redisOutages ?? []) items.push({ kind: 'redis', at: outage.at, until: outage.until });
  const heard = result.calls ?? [{ call: 1, heard: result.heard }];
  for (const call of callsOf(recording)) {
    const lane: OfCall = recording.calls ? { call: call.call } : {};
    for (const turn of call.turns) items.push({ ...lane, kind: 'caller', at: turn.atMs, text: turn.say });
    for (const e of call.events) {
      if (e.type === 'attempt' && e.backend === 'local') {
        items.push({ ...lane, kind: 'request', at: e.at - e.latencyMs, end: e.at, backend: 'local', model: 'local', outcome: e.outcome });
      } else if (e.type === 'policy' && e.step !== 'hold' && e.step !== 'hedge') {
        // The hold is heard (speech) and a hedge is a request (drawn as one): neither needs a mark of its own.
        items.push({ ...lane, kind: 'policy', at: e.at, step: e.step, ...(e.until !== undefined && { until: e.until }), reason: e.reason });
      } else if (e.type === 'turn_end' && e.outcome === 'silent') {
        const started = call.events.find((t) => t.type === 'turn' && t.turnId === e.turnId);
        items.push({ ...lane, kind: 'silence', at: e.at, from: started?.at ?? e.at, turnId: e.turnId });
      }
    }
    for (const h of heard.find((c) => c.call === call.call)?.heard ?? []) {
      items.push({ ...lane, kind: 'speech', at: h.start, end: h.end, source: h.source, text: h.text, interrupted: h.interrupted });
    }
  }
  return items.sort((a, b) => a.at - b.at || ORDER[a.kind] - ORDER[b.kind] || (a.call ?? 0) - (b.call ?? 0));
}

/** Where the drawing should end: the last thing that happened (open requests are drawn up to here). */
export function timelineEnd(items: readonly TimelineItem[]): number {
  return items.reduce((end, item) => Math.max(end, item.at, 'end' in item && item.end !== null ? item.end : 0, 'until' in item && item.until !== undefined ? item.until : 0), 0);
}
