/**
 * Counting what reached the fake OpenRouter, from its journal: chat requests, and those that met a fault
 * (an error status, or one of the fake's failure kinds: hang, stall, reset, disconnect, mid-stream error,
 * malformed, empty).
 */
import type { Journal, JournalEntry } from '../../contract/journal.js';
import type { Scenario } from '../../contract/scenario/schema.js';

export interface RequestCounts {
  /** Chat completion requests (the plugin's `GET /models` prewarm is not one). */
  chat: number;
  /** Chat requests whose outcome was a fault or an error status. */
  failed: number;
  /** Chat requests per model. */
  byModel: Record<string, number>;
}

const FAULT_OUTCOMES = new Set(['hang', 'stall', 'reset', 'disconnect', 'midStream', 'malformed', 'empty']);

/**
 * True when the request met a fault. A request still open when the journal was read (a stall the client never
 * gave up on) is still `aborted` there: given the scenario, its deciding rule tells whether it was a fault.
 * Without it (the rules changed during the run) only finished requests are judged.
 */
export function metFault(entry: JournalEntry, scenario?: Scenario): boolean {
  if (FAULT_OUTCOMES.has(entry.outcome)) return true;
  if (/^\d+$/.test(entry.outcome)) return Number(entry.outcome) >= 400;
  const rule = entry.rule === null ? undefined : scenario?.fake.rules[entry.rule];
  return rule !== undefined && rule.then.kind !== 'reply';
}

export function countRequests(journal: Journal, scenario?: Scenario): RequestCounts {
  const chat = journal.entries.filter((e) => e.method === 'POST' && e.path.endsWith('/chat/completions'));
  const byModel: Record<string, number> = {};
  for (const e of chat) byModel[e.model ?? '(none)'] = (byModel[e.model ?? '(none)'] ?? 0) + 1;
  return { chat: chat.length, failed: chat.filter((e) => metFault(e, scenario)).length, byModel };
}
