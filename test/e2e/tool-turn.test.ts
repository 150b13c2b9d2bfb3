/**
 * A tool turn is one caller turn: the request that makes the call and the follow-up that carries its result
 * are the same `turn` in the agent's events (and so in its logs and `holdline_turns_total`), ended once.
 * Through the library's tool scenario, on processes on virtual time (the events are the agent's, whatever the stack).
 */
import { describe, expect, it } from 'vitest';
import { processStack } from '../../harness/stack/processes.js';
import { rehearseLibrary, timeoutFor } from './rehearsal.js';

const SCENARIO = 'tool-call-after-failure';

describe('a tool turn in the agent events', () => {
  it('one `turn` and one `turn_end` for the caller\'s one question, though the agent asked twice', { timeout: timeoutFor(SCENARIO, 1, 'inline') }, async () => {
    const result = await rehearseLibrary(SCENARIO, 1, processStack({ virtual: true }));
    const { events } = result.recording;
    const attempts = events.filter((e) => e.type === 'attempt' && e.outcome === 'ok');
    // The call and the answer from its result: two requests that answered...
    expect(attempts).toHaveLength(2);
    // ...booked to the one turn the caller took.
    expect(events.flatMap((e) => (e.type === 'turn' ? [e.turnId] : []))).toEqual(['turn-1']);
    expect(new Set(attempts.flatMap((e) => (e.type === 'attempt' ? [e.turnId] : [])))).toEqual(new Set(['turn-1']));
    expect(events.filter((e) => e.type === 'turn_end')).toMatchObject([{ turnId: 'turn-1', outcome: 'answered' }]);
    expect(result.failures).toEqual([]);
  });
});
