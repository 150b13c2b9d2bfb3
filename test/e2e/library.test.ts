/**
 * The scenario library, end to end, on the stack E2E_STACK selects: every scenario at an accelerated speed;
 * the whole library again to show the same seed gives the same verdicts and the same words; a few short ones
 * at real time to show the results do not depend on the speed.
 */
import { describe, expect, it } from 'vitest';
import { libraryNames } from '../../contract/scenario/library.js';
import type { Result } from '../../harness/result.js';
import { textTimeline } from '../../harness/report/text.js';
import { e2eStack, E2E_SPEED, fingerprint, rehearseLibrary, timeoutFor } from './rehearsal.js';

const { stack } = await e2eStack();
const first = new Map<string, Result>();

/** Short ones for real time: a failover, the local model, and a calm day. */
const REAL_TIME = ['mid-stream-error-before-text', 'invalid-key', 'calm-day'];

describe(`the scenario library at speed ${E2E_SPEED} (${stack.name})`, () => {
  it('has the rehearsals teams need', () => {
    expect(libraryNames().length).toBeGreaterThanOrEqual(15);
  });

  for (const name of libraryNames()) {
    it(name, { timeout: timeoutFor(name, E2E_SPEED, stack.name) }, async () => {
      const result = await rehearseLibrary(name, E2E_SPEED);
      first.set(name, result);
      expect(result.failures, textTimeline(result)).toEqual([]);
    });
  }
});

describe('the same seed, the same rehearsal (the library a second time)', () => {
  for (const name of libraryNames()) {
    it(name, { timeout: timeoutFor(name, E2E_SPEED, stack.name) }, async () => {
      const again = await rehearseLibrary(name, E2E_SPEED);
      const before = first.get(name);
      expect(before, `${name} did not run in the first pass`).toBeDefined();
      expect(fingerprint(again), textTimeline(again)).toEqual(fingerprint(before as Result));
    });
  }
});

describe('at real time (speed 1)', () => {
  for (const name of REAL_TIME) {
    it(name, { timeout: timeoutFor(name, 1, stack.name) }, async () => {
      const result = await rehearseLibrary(name, 1);
      expect(result.failures, textTimeline(result)).toEqual([]);
      const accelerated = first.get(name);
      if (accelerated) expect(fingerprint(result)).toEqual(fingerprint(accelerated));
    });
  }
});
