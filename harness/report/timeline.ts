/**
 * The rehearsal as one list of things on a time axis, for the text timeline and the HTML report alike:
 * what the caller said, each request (OpenRouter's from the fake's journal, the local server's from the
 * agent's events, since those never reach the fake), each policy step, and each utterance.
 */
import type { Result } from '../result.js';

export type TimelineItem =
  | { kind: 'caller'; at: number; text: string }
  | { kind: 'request'; at: number; end: number | null; backend: 'openrouter' | 'local'; model: string; outcome: string }
  | { kind: 'policy'; at: number; step: 'wait' | 'apology' | 'cancel'; until?: number; reason: string }
  /** A turn that ended with nothing said (a rehearsed agent on another LLM, e.g. LiveKit's FallbackAdapter). */
  | { kind: 'silence'; at: number; from: number; turnId: string }
  | { kind: 'speech'; at: number; end: number; source: string; text: string; interrupted: boolean };

const ORDER: Record<TimelineItem['kind'], number> = { caller: 0, request: 1, policy: 2, silence: 2, speech: 3 };

export function timelineOf(result: Result): TimelineItem[] {
  const { recording } = result;
  const items: TimelineItem[] = [];
  for (const turn of recording.turns) items.push({ kind: 'caller', at: turn.atMs, text: turn.say });
  for (const e of recording.journal.entries) {
    if (!e.path.endsWith('/chat/completions')) continue;
    const end = e.durationMs === null ? null : e.at + e.durationMs;
    items.push({ kind: 'request', at: e.at, end, backend: 'openrouter', model: e.model ?? '(no model)', outcome: e.outcome });
  }
  for (const e of recording.events) {
    if (e.type === 'attempt' && e.backend === 'local') {
      items.push({ kind: 'request', at: e.at - e.latencyMs, end: e.at, backend: 'local', model: 'local', outcome: e.outcome });
    } else if (e.type === 'policy' && e.step !== 'hold' && e.step !== 'hedge') {
      // The hold is heard (speech) and a hedge is a request (drawn as one): neither needs a mark of its own.
      items.push({ kind: 'policy', at: e.at, step: e.step, ...(e.until !== undefined && { until: e.until }), reason: e.reason });
    } else if (e.type === 'turn_end' && e.outcome === 'silent') {
      const started = recording.events.find((t) => t.type === 'turn' && t.turnId === e.turnId);
      items.push({ kind: 'silence', at: e.at, from: started?.at ?? e.at, turnId: e.turnId });
    }
  }
  for (const h of result.heard) {
    items.push({ kind: 'speech', at: h.start, end: h.end, source: h.source, text: h.text, interrupted: h.interrupted });
  }
  return items.sort((a, b) => a.at - b.at || ORDER[a.kind] - ORDER[b.kind]);
}

/** Where the drawing should end: the last thing that happened (open requests are drawn up to here). */
export function timelineEnd(items: readonly TimelineItem[]): number {
  return items.reduce((end, item) => Math.max(end, item.at, 'end' in item && item.end !== null ? item.end : 0, 'until' in item && item.until !== undefined ? item.until : 0), 0);
}
