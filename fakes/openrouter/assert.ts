/**
 * `@holdline/fake/assert`: what the fake was asked, for vitest, jest or node:test. The `expect*` helpers throw
 * node's AssertionError with `actual` and `expected`, which every one of those runners prints as a diff.
 *
 *   expectRequestsPerModel(fake, { 'openai/gpt-4o-mini': 2, 'anthropic/claude-3.5-haiku': 1 });
 *   expectOutcomes(fake, ['429', '200']);                       // every chat request, in arrival order
 *   expectOutcomes(fake, ['429', '429'], 'openai/gpt-4o-mini');  // one model's
 */
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import type { Journal, JournalEntry } from '../../contract/journal.js';

/** A running fake (anything with `journal()`) or a journal already read. */
export type JournalSource = { journal(): Journal } | Journal;

/** Chat completion requests only, in arrival order: the catalog and key lookups are not what tests count. */
export function chatRequests(source: JournalSource): JournalEntry[] {
  const journal = 'entries' in source ? source : source.journal();
  return journal.entries.filter((e) => e.path.endsWith('/chat/completions'));
}

/** `{ model: number of chat requests }`, models in order of first request. */
export function requestsPerModel(source: JournalSource): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of chatRequests(source)) counts[e.model ?? '(no model)'] = (counts[e.model ?? '(no model)'] ?? 0) + 1;
  return counts;
}

/** The outcome of each chat request in arrival order ("200", "429", "hang", "midStream"...), of one model if given. */
export function outcomes(source: JournalSource, model?: string): string[] {
  return chatRequests(source)
    .filter((e) => model === undefined || e.model === model)
    .map((e) => e.outcome);
}

/** Fails unless each model got exactly the given number of chat requests, and no other model got any. */
export function expectRequestsPerModel(source: JournalSource, expected: Record<string, number>): void {
  const actual = requestsPerModel(source);
  const wanted = Object.fromEntries(Object.entries(expected).filter(([, n]) => n > 0));
  if (!isDeepStrictEqual(sorted(actual), sorted(wanted))) {
    throw new AssertionError({ message: 'requests per model differ from the expected counts', actual, expected: wanted, operator: 'deepStrictEqual' });
  }
}

/** Fails unless the chat requests (of `model`, if given) had exactly these outcomes, in this order. */
export function expectOutcomes(source: JournalSource, expected: string[], model?: string): void {
  const actual = outcomes(source, model);
  if (!isDeepStrictEqual(actual, expected)) {
    const whose = model === undefined ? 'the chat requests' : `the chat requests to ${model}`;
    throw new AssertionError({ message: `outcomes of ${whose} differ from the expected sequence`, actual, expected, operator: 'deepStrictEqual' });
  }
}

function sorted(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
}
