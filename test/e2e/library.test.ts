/**
 * The scenario library, end to end:
 * - on virtual time (the inline stack: the fake and the agent in this process on an AutoClock that skips idle
 *   time), every scenario twice: each passes, and the second run's `--json` is the first's, byte for byte,
 *   timings included. This is where "the same seed gives the same rehearsal" is proven: on wall time a busy
 *   machine moves the instants;
 * - on the stacks E2E_STACK selects (child processes, containers), every scenario at an accelerated speed of
 *   wall time, with the same verdict, the same words from the same sources as on virtual time;
 * - a few short ones at real time (speed 1), to show the results do not depend on the speed.
 *
 * Fleet scenarios (`calls` > 1 or `agent.redis`: several agent processes, a real redis-server) play on the
 * process stack only, at the fleet's speed, with their own verdict as the reference: virtual time runs one agent
 * in this process and cannot count Redis replies as work in flight yet, and the container stack has no redis
 * service nor several agents yet. Each skip says so in its name.
 */
import { describe, expect, it } from 'vitest';
import { libraryNames, resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import { toJson, type Result } from '../../harness/result.js';
import { textTimeline } from '../../harness/report/text.js';
import { inlineStack } from '../../harness/stack/inline.js';
import { e2eSpeed, e2eStacks, fingerprint, isFleetScenario, rehearseLibrary, timeoutFor } from './rehearsal.js';

const stacks = (await e2eStacks()).map((c) => c.stack);
const inline = inlineStack();
/** Each scenario's result on virtual time, the reference for every stack. */
const virtual = new Map<string, Result>();

/** Short ones for real time: a failover, the local model, and a calm day. */
const REAL_TIME = ['mid-stream-error-before-text', 'invalid-key', 'calm-day'];
const fleet = libraryNames().filter(isFleetScenario);
const single = libraryNames().filter((name) => !fleet.includes(name));
const NOT_ON_VIRTUAL_TIME = 'a fleet (several agent processes, a real Redis) does not play on virtual time yet';

describe('the scenario library on virtual time (inline)', () => {
  it('has the rehearsals teams need', () => {
    expect(libraryNames().length).toBeGreaterThanOrEqual(15);
  });

  for (const name of fleet) it.skip(`${name}: ${NOT_ON_VIRTUAL_TIME}`, () => {});
  for (const name of single) {
    it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
      const result = await rehearseLibrary(name, 1, inline);
      virtual.set(name, result);
      expect(result.failures, textTimeline(result)).toEqual([]);
      expect(result.recording.clock).toBe('virtual');
    });
  }
});

describe('the same seed, the same rehearsal: on virtual time the --json of a second run is the first, byte for byte', () => {
  for (const name of fleet) it.skip(`${name}: ${NOT_ON_VIRTUAL_TIME}`, () => {});
  for (const name of single) {
    it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
      const before = virtual.get(name);
      expect(before, `${name} did not run in the first pass`).toBeDefined();
      const again = await rehearseLibrary(name, 1, inline);
      expect(JSON.stringify(toJson(again)), textTimeline(again)).toBe(JSON.stringify(toJson(before as Result)));
    });
  }
});

for (const stack of stacks) {
  const speed = e2eSpeed(stack.name);
  describe(`the scenario library at speed ${speed} (${stack.name}): the verdict, words and sources of virtual time`, () => {
    for (const name of single) {
      it(name, { timeout: timeoutFor(name, speed, stack.name) }, async () => {
        const result = await rehearseLibrary(name, speed, stack);
        expect(result.failures, textTimeline(result)).toEqual([]);
        const reference = virtual.get(name);
        expect(reference, `${name} did not run on virtual time`).toBeDefined();
        expect(fingerprint(result), textTimeline(result)).toEqual(fingerprint(reference as Result));
      });
    }
  });
}

for (const stack of stacks) {
  const speed = e2eSpeed(stack.name, process.env, { fleet: true });
  describe(`the fleet scenarios at speed ${speed} (${stack.name}): every call hears the expected words, the fleet's requests are counted`, () => {
    for (const name of fleet) {
      if (stack.name !== 'processes') {
        it.skip(`${name}: the ${stack.name} stack has no redis service nor several agents yet (processes only)`, () => {});
        continue;
      }
      it(name, { timeout: timeoutFor(name, speed, stack.name) }, async () => {
        const result = await rehearseLibrary(name, speed, stack);
        expect(result.failures, textTimeline(result)).toEqual([]);
        expect(result.calls?.length).toBe(loadScenarioFile(resolveScenario(name)).calls);
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
        const reference = virtual.get(name);
        expect(reference, `${name} did not run on virtual time`).toBeDefined();
        expect(fingerprint(result)).toEqual(fingerprint(reference as Result));
      });
    }
  });
}
