/**
 * One line per finished request for the CLI: scenario time, what was asked, the outcome, how long it took.
 * What the client sent (method, path, model) is escaped: one request is one line, and it cannot drive the terminal.
 */
import { formatDuration } from '../../contract/duration.js';
import { printable } from '../../contract/printable.js';
import type { JournalEntry } from '../../contract/journal.js';

/** "  8.250s  meta-llama/x:free -> qwen/y  429  3ms  rule 0: for any model, ..." */
export function formatEntry(entry: JournalEntry): string {
  const time = `${(entry.at / 1000).toFixed(3)}s`.padStart(9);
  const what = printable(entry.model === null ? `${entry.method} ${entry.path}` : entry.model);
  const served = entry.servedBy !== null && entry.servedBy !== entry.model ? ` -> ${entry.servedBy}` : '';
  const took = entry.durationMs === null ? 'open' : formatDuration(entry.durationMs);
  const why = entry.model === null && entry.rule === null ? '' : `  ${printable(entry.ruleText, Infinity)}`;
  return `${time}  ${what}${served}${entry.stream ? ' (stream)' : ''}  ${entry.outcome}  ${took}${why}`;
}
