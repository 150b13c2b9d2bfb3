/**
 * The scenario library, end to end:
 * - on virtual time (the inline stack: the fake and the agent in this process on an AutoClock that skips idle
 *   time), every scenario twice: each passes, and the second run's `--json` is the first's, byte for byte,
 *   timings included. This is where "the same seed gives the same rehearsal" is proven: on wall time a busy
 *   machine moves the instants;
 * - on virtual time across processes (the fake and the agent as child processes joining the runner's clock,
 *   contract/time/shared-clock.ts), every scenario once: its `--json` is the inline one's, byte for byte, so
 *   three processes rehearse exactly what one does;
 * - the fleet scenarios (`calls` > 1 or `agent.redis`: several agent processes, a real redis-server) on virtual
 *   time across processes (inline runs one agent), and on the container stack when E2E_STACK selects it (one
 *   agent container per call, the rig's redis service), also on the runner's virtual time, each against its own
 *   expect with every call; the one whose Redis goes down at real time on both (its clients reconnect on wall time);
 * - on the container stack when E2E_STACK selects it, every other scenario on the runner's virtual time (the fake
 *   and the agent containers join its clock): its `--json` is the inline one's, byte for byte, as on processes;
 * - a few short ones at real time (speed 1) on each stack E2E_STACK selects, to show the results do not depend
 *   on the speed or the clock.
 */
import { describe, expect, it } from 'vitest';
import { libraryNames, resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import { toJson, type Result } from '../../harness/result.js';
import { textTimeline } from '../../harness/report/text.js';
import { containerStack } from '../../harness/stack/containers.js';
import { inlineStack } from '../../harness/stack/inline.js';
import { processStack } from '../../harness/stack/processes.js';
import { e2eFleetSpeed, e2eStacks, fingerprint, isFleetScenario, rehearseLibrary, timeoutFor } from './rehearsal.js';

const stacks = (await e2eStacks()).map((c) => c.stack);
const inline = inlineStack();
/** Each scenario's result on virtual time, the reference for every stack. */
const virtual = new Map<string, Result>();

/** Short ones for real time: a failover, the local model, and a calm day. */
const REAL_TIME = ['mid-stream-error-before-text', 'invalid-key', 'calm-day'];
const fleet = libraryNames().filter(isFleetScenario);
const single = libraryNames().filter((name) => !fleet.includes(name));
const NOT_INLINE = 'a fleet (several agent processes, a real Redis) plays across processes (below), not in one';

describe('the scenario library on virtual time (inline)', () => {
  it('has the rehearsals teams need', () => {
    expect(libraryNames().length).toBeGreaterThanOrEqual(15);
  });

  for (const name of fleet) it.skip(`${name}: ${NOT_INLINE}`, () => {});
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
  for (const name of fleet) it.skip(`${name}: ${NOT_INLINE}`, () => {});
  for (const name of single) {
    it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
      const before = virtual.get(name);
      expect(before, `${name} did not run in the first pass`).toBeDefined();
      const again = await rehearseLibrary(name, 1, inline);
      expect(JSON.stringify(toJson(again)), textTimeline(again)).toBe(JSON.stringify(toJson(before as Result)));
    });
  }
});

const processes = processStack({ virtual: true });

describe('the scenario library on virtual time across processes: the --json of one process, byte for byte', () => {
  for (const name of single) {
    it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
      const reference = virtual.get(name);
      expect(reference, `${name} did not run on virtual time`).toBeDefined();
      const result = await rehearseLibrary(name, 1, processes);
      expect(result.recording.clock).toBe('virtual');
      expect(JSON.stringify(toJson(result)), textTimeline(result)).toBe(JSON.stringify(toJson(reference as Result)));
    });
  }
});

// Wall time on either stack is covered at real time below, by the runner's own tests (--speed 10) and by
// rehearsing an agent module.
const containers = stacks.some((s) => s.name === 'containers') ? containerStack({ virtual: true }) : undefined;

describe.runIf(containers)('the scenario library on virtual time in containers: the --json of one process, byte for byte', () => {
  for (const name of single) {
    it(name, { timeout: timeoutFor(name, 1, 'containers') }, async () => {
      const reference = virtual.get(name);
      expect(reference, `${name} did not run on virtual time`).toBeDefined();
      const result = await rehearseLibrary(name, 1, containers as NonNullable<typeof containers>);
      expect(result.recording.clock).toBe('virtual');
      expect(JSON.stringify(toJson(result)), textTimeline(result)).toBe(JSON.stringify(toJson(reference as Result)));
    });
  }
});

/** Redis killed mid-run: its clients reconnect on wall-time timers, so it plays at real time (speed 1). */
const redisDown = (name: string) => {
  const { redis } = loadScenarioFile(resolveScenario(name)).agent;
  return redis !== false && redis.down !== undefined;
};

/** Each fleet's result across processes on virtual time, the reference for containers. */
const fleetOnProcesses = new Map<string, Result>();

describe("the fleet scenarios across processes (on virtual time; at real time when Redis goes down): every call hears the expected words, the fleet's requests are counted", () => {
  const wall = processStack();
  for (const name of fleet) {
    const onWall = redisDown(name);
    it(name, { timeout: timeoutFor(name, 1, onWall ? 'processes' : 'inline') }, async () => {
      const result = await rehearseLibrary(name, 1, onWall ? wall : processes);
      expect(result.failures, textTimeline(result)).toEqual([]);
      expect(result.recording.clock).toBe(onWall ? 'wall' : 'virtual');
      expect(result.calls?.length).toBe(loadScenarioFile(resolveScenario(name)).calls);
      if (!onWall) fleetOnProcesses.set(name, result);
    });
  }
});

// One agent container per call, the rig's redis service: on the runner's virtual time, the --json of processes
// byte for byte; Redis going down at real time (see e2eFleetSpeed), against the scenario's own expect.
for (const stack of stacks.filter((s) => s.name === 'containers')) {
  const speed = e2eFleetSpeed();
  describe(`the fleet scenarios in containers (on virtual time; at speed ${speed} when Redis goes down): one agent container per call, the rig's redis service`, () => {
    for (const name of fleet) {
      const onWall = redisDown(name);
      it(name, { timeout: timeoutFor(name, onWall ? speed : 1, stack.name) }, async () => {
        const result = await rehearseLibrary(name, onWall ? speed : 1, onWall ? stack : (containers as NonNullable<typeof containers>));
        expect(result.failures, textTimeline(result)).toEqual([]);
        expect(result.recording.clock).toBe(onWall ? 'wall' : 'virtual');
        expect(result.calls?.length).toBe(loadScenarioFile(resolveScenario(name)).calls);
        if (onWall) return;
        const reference = fleetOnProcesses.get(name);
        expect(reference, `${name} did not run across processes`).toBeDefined();
        expect(JSON.stringify(toJson(result)), textTimeline(result)).toBe(JSON.stringify(toJson(reference as Result)));
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
