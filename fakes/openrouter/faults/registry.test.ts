import { describe, expect, it } from 'vitest';
import { FAILURE_CLASSES } from '../../../contract/events.js';
import { ERROR_PRESETS, FAULT_KINDS, type Fault } from '../../../contract/scenario/schema.js';
import { PRESETS } from '../wire/presets.js';
import { describeFault, FAULTS } from './index.js';

/** One example of every kind, as the schema parses them. */
const EXAMPLES: Record<Fault['kind'], Fault> = {
  error: { kind: 'error', error: 'timeout' },
  status: { kind: 'status', status: 503 },
  hang: { kind: 'hang' },
  stall: { kind: 'stall' },
  reset: { kind: 'reset' },
  disconnect: { kind: 'disconnect', afterTokens: 2 },
  midStream: { kind: 'midStream', afterTokens: 2, error: 'provider-down' },
  malformed: { kind: 'malformed', afterTokens: 2 },
  failedFinish: { kind: 'failedFinish', afterTokens: 2, native: 'error' },
  empty: { kind: 'empty' },
  reply: { kind: 'reply' },
};

describe('the fault registry', () => {
  it('has exactly one module per fault kind of the contract', () => {
    expect(Object.keys(FAULTS).sort()).toEqual([...FAULT_KINDS].sort());
  });

  it.each(FAULT_KINDS)('%s explains itself in one sentence', (kind) => {
    const text = describeFault(EXAMPLES[kind]);
    expect(text).toMatch(/^[a-z]/);
    expect(text).not.toMatch(/[.\n]$/);
    expect(text.split(/\.\s/)).toHaveLength(1);
  });

  it('every error preset is in the table, tied to a status and a failure class', () => {
    expect(Object.keys(PRESETS).sort()).toEqual([...ERROR_PRESETS].sort());
    for (const row of Object.values(PRESETS)) {
      expect(row.status).toBeGreaterThanOrEqual(400);
      expect(FAILURE_CLASSES).toContain(row.failureClass);
    }
  });
});
