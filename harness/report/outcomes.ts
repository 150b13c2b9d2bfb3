/** A request's outcome in plain words, for the timeline and the report's legend. */

const WORDS: Record<string, string> = {
  '200': 'answered',
  '400': 'bad request',
  '401': 'invalid key',
  '402': 'insufficient credits',
  '403': 'flagged by moderation',
  '404': 'no endpoints for the model',
  '408': 'timed out upstream',
  '429': 'rate limited',
  '500': 'server error',
  '502': 'provider down',
  '503': 'no provider available',
  hang: 'hung: no response at all',
  stall: 'stalled: keep-alives, never a token',
  reset: 'connection reset',
  disconnect: 'cut off mid-answer',
  midStream: 'error mid-stream',
  malformed: 'malformed stream',
  empty: 'empty answer',
  aborted: 'abandoned by the agent',
};

export function outcomeWords(outcome: string): string {
  return WORDS[outcome] ?? (/^\d{3}$/.test(outcome) ? `HTTP ${outcome}` : outcome);
}

/** How the local backend's attempts read (they never reach the fake, so the agent's events tell them). */
export function localOutcomeWords(outcome: string): string {
  if (outcome === 'ok') return 'answered';
  if (outcome === 'connection') return 'unreachable';
  return outcome;
}

/** Coarse outcome classes for colours: an answer, a failure the agent should ride out, or one it must not retry. */
export type OutcomeClass = 'ok' | 'transient' | 'fatal' | 'hung' | 'aborted';

export function outcomeClass(outcome: string): OutcomeClass {
  if (outcome === '200' || outcome === 'ok') return 'ok';
  if (outcome === 'aborted' || outcome === 'cancelled') return 'aborted';
  if (['hang', 'stall', 'timeout'].includes(outcome)) return 'hung';
  if (['400', '401', '402', '403', 'account', 'bad-request'].includes(outcome)) return 'fatal';
  return 'transient';
}
