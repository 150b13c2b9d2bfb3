/**
 * The fake's journal: one `JournalEntry` (contract/journal.ts) per API request, in arrival order, filled in as the
 * request progresses. Entries never hold headers, so the key cannot leak through `GET /__fake/journal`.
 */
import type { Journal, JournalEntry } from '../../contract/journal.js';

export class JournalBook {
  private entries: JournalEntry[] = [];
  private seq = 0;

  /** Starts an entry for a request that arrived at scenario ms `at`. */
  open(at: number, method: string, path: string): JournalEntry {
    const entry: JournalEntry = {
      seq: ++this.seq,
      at,
      method,
      path,
      model: null,
      servedBy: null,
      stream: false,
      rule: null,
      ruleText: 'no rule applies to this endpoint',
      outcome: 'aborted',
      ttfbMs: null,
      durationMs: null,
    };
    this.entries.push(entry);
    return entry;
  }

  /** Forgets every entry and restarts `seq` at 1 (requests still open keep updating their own, detached, entry). */
  clear(): void {
    this.entries = [];
    this.seq = 0;
  }

  snapshot(originEpochMs: number, speed: number): Journal {
    return { originEpochMs, speed, entries: this.entries.map((e) => ({ ...e })) };
  }
}

/** Rounds a scenario duration for the journal: whole milliseconds are plenty and keep it readable. */
export function roundMs(ms: number): number {
  return Math.max(0, Math.round(ms));
}
