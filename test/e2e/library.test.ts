/**
 * The scenario library, end to end, on the stacks E2E_STACK selects: every scenario at an accelerated speed;
 * with E2E_STACK=both, each scenario's verdict, words and sources compared between processes and containers;
 * the whole library again to show the same seed gives the same verdicts and the same words; a few short ones
 * at real time to show the results do not depend on the speed.
 */
import { describe, expect, it } from 'vitest';
import { libraryNames } from '../../contract/scenario/library.js';
import type { Result } from '../../harness/result.js';
import { textTimeline } from '../../harness/report/text.js';
import { e2eSpeed, e2eStacks, fingerprint, rehearseLibrary, timeoutFor } from './rehearsal.js';

const stacks = (await e2eStacks()).map((c) => c.stack);
/** The first pass's results, by `${stack}:${scenario}`. */
const first = new Map<string, Result>();

/** Short ones for real time: a failover, the local model, and a calm day. */
const REAL_TIME = ['mid-stream-error-before-text', 'invalid-key', 'calm-day'];

for (const stack of stacks) {
  const speed = e2eSpeed(stack.name);
  describe(`the scenario library at speed ${speed} (${stack.name})`, () => {
    it('has the rehearsals teams need', () => {
      expect(libraryNames().length).toBeGreaterThanOrEqual(15);
    });

    for (const name of libraryNames()) {
      it(name, { timeout: timeoutFor(name, speed, stack.name) }, async () => {
        const result = await rehearseLibrary(name, speed, stack);
        first.set(`${stack.name}:${name}`, result);
        expect(result.failures, textTimeline(result)).toEqual([]);
      });
    }
  });
}

if (stacks.length > 1) {
  describe('processes and containers: the same verdict, the same words from the same sources', () => {
    for (const name of libraryNames()) {
      it(name, () => {
        const [a, b] = stacks.map((stack) => first.get(`${stack.name}:${name}`));
        expect(a && b, `${name} did not run on both stacks`).toBeTruthy();
        expect(fingerprint(b as Result), textTimeline(b as Result)).toEqual(fingerprint(a as Result));
      });
    }
  });
}

for (const stack of stacks) {
  const speed = e2eSpeed(stack.name);
  describe(`the same seed, the same rehearsal (the library a second time, ${stack.name}, speed ${speed})`, () => {
    for (const name of libraryNames()) {
      it(name, { timeout: timeoutFor(name, speed, stack.name) }, async () => {
        const again = await rehearseLibrary(name, speed, stack);
        const before = first.get(`${stack.name}:${name}`);
        expect(before, `${name} did not run in the first pass`).toBeDefined();
        expect(fingerprint(again), textTimeline(again)).toEqual(fingerprint(before as Result));
      });
    }
  });
}

for (const stack of stacks) {
  describe(`at real time (speed 1, ${stack.name})`, () => {
    for (const name of REAL_TIME) {
      it(name, { timeout: timeoutFor(name, 1, stack.name) }, async () => {
        const result = await rehearseLibrary(name, 1, stack);
        expect(result.failures, textTimeline(result)).toEqual([]);
        const accelerated = first.get(`${stack.name}:${name}`);
        if (accelerated) expect(fingerprint(result)).toEqual(fingerprint(accelerated));
      });
    }
  });
}
