/**
 * The fake's journal: one `JournalEntry` (contract/journal.ts) per API request, in arrival order, filled in as the
 * request progresses. Entries never hold headers, so the key cannot leak through `GET /__fake/journal` (only its short
 * hash, `keyIdOf`).
 * Bounded, because a fake left running (or flooded) must not grow forever: the newest `JOURNAL_MAX_ENTRIES`
 * are kept and the rest counted in `dropped`; the request-controlled fields (path, model) are clipped.
 */
import { clip } from '../../contract/printable.js';
import type { Journal, JournalEntry } from '../../contract/journal.js';

/** Entries kept: a rehearsal makes hundreds, the 1000-turn soak about 1,200; each is a few hundred bytes. */
export const JOURNAL_MAX_ENTRIES = 50_000;

export class JournalBook {
  private entries: JournalEntry[] = [];
  private seq = 0;
  private dropped = 0;

  constructor(private readonly maxEntries = JOURNAL_MAX_ENTRIES) {}

  /** Starts an entry for a request that arrived at scenario ms `at`, made with the key `key` stands for (keyIdOf). */
  open(at: number, method: string, path: string, key: string | null = null): JournalEntry {
    const entry: JournalEntry = {
      seq: ++this.seq,
      at,
      method,
      key,
      path: clip(path),
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
    if (this.entries.length > this.maxEntries) {
      this.entries.shift();
      this.dropped++;
    }
    return entry;
  }

  /** Forgets every entry and restarts `seq` at 1 (requests still open keep updating their own, detached, entry). */
  clear(): void {
    this.entries = [];
    this.seq = 0;
    this.dropped = 0;
  }

  snapshot(originEpochMs: number, speed: number): Journal {
    return { originEpochMs, speed, entries: this.entries.map((e) => ({ ...e })), dropped: this.dropped };
  }
}

/** Rounds a scenario duration for the journal: whole milliseconds are plenty and keep it readable. */
export function roundMs(ms: number): number {
  return Math.max(0, Math.round(ms));
}
