/**
 * The scenario library, end to end, as suites a test file declares for its share of the library:
 * - `virtualLibrary`: every rehearsal whose clock skips idle time, so its verdict and its bytes do not depend on
 *   the machine, and rehearsals may run side by side (vitest runs the `library-*.test.ts` shards in parallel):
 *   - inline (the fake and the agent in this process on an AutoClock), each scenario twice: each passes, and the
 *     second run's `--json` is the first's, byte for byte, timings included ("the same seed gives the same
 *     rehearsal"; on wall time a busy machine moves the instants);
 *   - across processes (the fake and the agent as child processes joining the runner's clock,
 *     contract/time/shared-clock.ts): its `--json` is the inline one's, byte for byte, so three processes
 *     rehearse exactly what one does;
 *   - on the container stack when E2E_STACK selects it (the fake and the agent containers join the runner's
 *     clock), the same comparison;
 *   - the fleet scenarios (`calls` > 1 or `agent.redis`: several agent processes, a real redis-server) on each
 *     virtual-time stack that holds a fleet (inline runs one agent), each against its own expect with every call,
 *     and on containers byte for byte against processes; Redis killed and started again mid-run included (the
 *     calls' clients reconnect on the clock there: src/chain/redis-reconnect.ts).
 * - `wallLibrary` (the `*.wall.test.ts` files, a later phase of `npm test`, one rehearsal at a time on the
 *   machine): what plays on wall time, where a neighbour's CPU would move the instants:
 *   - a few short scenarios at real time (speed 1) on each stack (three on processes, the local model's on
 *     containers), with the verdict, words and sources of virtual time, to show the results do not depend on the
 *     speed or the clock;
 *   - the fleet that takes Redis down, on processes: at wall time its clients reconnect on ioredis's own timers,
 *     as in production, where virtual time has them reconnect on the clock.
 * Every stack has virtual time now (containers join the runner's clock too: harness/stack/stack-clock.ts), so no
 * accelerated wall-time pass of the library is left: virtual time proves more (the same bytes, not a verdict
 * within windows) in less time.
 */
import { describe, expect, it } from 'vitest';
import { libraryNames, resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import { toJson, type Result } from '../../harness/result.js';
import { textTimeline } from '../../harness/report/text.js';
import { inlineStack } from '../../harness/stack/inline.js';
import { processStack } from '../../harness/stack/processes.js';
import type { Stack } from '../../harness/stack/stack.js';
import { e2eStacks, fingerprint, isFleetScenario, rehearseLibrary, timeoutFor, virtualOf, wallOf } from './rehearsal.js';

/** Short ones for real time: a failover, the local model, and a calm day. */
export const REAL_TIME = ['mid-stream-error-before-text', 'invalid-key', 'calm-day'];
/**
 * On containers one of them, the local model's (the real llama.cpp server image answering at real time): what the
 * container stack adds at wall time is its published ports and its clocks at `--speed`, and every scenario's verdict
 * and bytes on containers are checked against inline on virtual time already.
 */
const REAL_TIME_CONTAINERS = ['invalid-key'];
const NOT_INLINE = 'a fleet (several agent processes, a real Redis) plays across processes, not in one';

/** Redis killed mid-run: its clients reconnect on wall-time timers, so it plays at real time (speed 1). */
export function redisDown(name: string): boolean {
  const { redis } = loadScenarioFile(resolveScenario(name)).agent;
  return redis !== false && redis.down !== undefined;
}

/**
 * One shard of the library (`index` of `of`, by the library's order), so the shards' files run side by side.
 * Every scenario is in exactly one shard.
 */
export function shard(index: number, of: number): string[] {
  return libraryNames().filter((_, i) => i % of === index);
}

const inline = inlineStack();

/** Each scenario on inline virtual time: the reference every other stack and clock is compared with. */
function referenceOf(name: string, references: Map<string, Result>): Result {
  const reference = references.get(name);
  expect(reference, `${name} did not run on virtual time`).toBeDefined();
  return reference as Result;
}

const sameJson = (result: Result, reference: Result) => expect(JSON.stringify(toJson(result)), textTimeline(result)).toBe(JSON.stringify(toJson(reference)));
const callsOf = (name: string) => loadScenarioFile(resolveScenario(name)).calls;

export async function virtualLibrary(names: string[]): Promise<void> {
  const fleet = names.filter(isFleetScenario);
  const single = names.filter((name) => !fleet.includes(name));
  const references = new Map<string, Result>();
  // Virtual-time stacks beyond inline: processes always (the library's own reference for "across processes"),
  // and any selected stack that runs on virtual time.
  const others: Stack[] = [processStack({ virtual: true }), ...(await e2eStacks()).flatMap((c) => (c.stack.name === 'processes' ? [] : (virtualOf(c.stack) ?? [])))];

  describe('the scenario library on virtual time (inline)', () => {
    it('has the rehearsals teams need (every shard together)', () => {
      expect(libraryNames().length).toBeGreaterThanOrEqual(15);
    });
    for (const name of fleet) it.skip(`${name}: ${NOT_INLINE}`, () => {});
    for (const name of single) {
      it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
        const result = await rehearseLibrary(name, 1, inline);
        references.set(name, result);
        expect(result.failures, textTimeline(result)).toEqual([]);
        expect(result.recording.clock).toBe('virtual');
      });
    }
  });

  describe('the same seed, the same rehearsal: on virtual time the --json of a second run is the first, byte for byte', () => {
    for (const name of single) {
      it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
        sameJson(await rehearseLibrary(name, 1, inline), referenceOf(name, references));
      });
    }
  });

  for (const stack of others) {
    describe(`the scenario library on virtual time (${stack.name}): the --json of one process, byte for byte`, () => {
      for (const name of single) {
        it(name, { timeout: timeoutFor(name, 1, stack.name === 'containers' ? 'containers' : 'inline') }, async () => {
          const reference = referenceOf(name, references);
          const result = await rehearseLibrary(name, 1, stack);
          expect(result.recording.clock).toBe('virtual');
          sameJson(result, reference);
        });
      }
    });
  }

  /** Each fleet's result across processes, the reference for the other stacks (inline runs one agent). */
  const fleetReferences = new Map<string, Result>();
  for (const stack of others) {
    describe(`the fleet scenarios on virtual time (${stack.name}): every call hears the expected words, the fleet's requests are counted`, () => {
      for (const name of fleet) {
        it(name, { timeout: timeoutFor(name, 1, stack.name === 'containers' ? 'containers' : 'inline') }, async () => {
          const result = await rehearseLibrary(name, 1, stack);
          expect(result.failures, textTimeline(result)).toEqual([]);
          expect(result.recording.clock).toBe('virtual');
          expect(result.calls?.length).toBe(callsOf(name));
          if (stack.name === 'processes') fleetReferences.set(name, result);
          else sameJson(result, referenceOf(name, fleetReferences));
        });
      }
    });
  }
}

export async function wallLibrary(names: string[]): Promise<void> {
  const stacks = (await e2eStacks()).map((c) => c.stack);
  const fleet = names.filter(isFleetScenario);
  const single = names.filter((name) => !fleet.includes(name));
  // The references: inline virtual time, for the scenarios this file compares (cheap: about a second each).
  const compared = single.filter((name) => REAL_TIME.includes(name));
  const references = new Map<string, Result>();

  describe('the references: on virtual time (inline)', () => {
    for (const name of compared) {
      it(name, { timeout: timeoutFor(name, 1, 'inline') }, async () => {
        const result = await rehearseLibrary(name, 1, inline);
        expect(result.failures, textTimeline(result)).toEqual([]);
        references.set(name, result);
      });
    }
  });

  // Redis taken down at real time, where its clients reconnect on ioredis's own wall-time timers as in production
  // (virtual time has them reconnect on the clock): on processes, whatever E2E_STACK says. Containers play it on
  // virtual time, byte for byte against processes (virtualLibrary); at real time there it would only add a start of
  // eleven containers to this serial phase for what the process stack already shows.
  {
    const wall = processStack();
    const speed = 1;
    describe(`the fleet scenarios that take Redis down, at speed ${speed} (processes)`, () => {
      for (const name of fleet.filter(redisDown)) {
        it(name, { timeout: timeoutFor(name, speed, 'processes') }, async () => {
          const result = await rehearseLibrary(name, speed, wall);
          expect(result.failures, textTimeline(result)).toEqual([]);
          expect(result.recording.clock).toBe('wall');
          expect(result.calls?.length).toBe(callsOf(name));
        });
      }
    });
  }

  for (const stack of stacks.filter((s) => s.name !== 'inline')) {
    const wall = wallOf(stack);
    const realTime = stack.name === 'containers' ? REAL_TIME_CONTAINERS : REAL_TIME;
    describe(`at real time (speed 1, ${stack.name})`, () => {
      for (const name of single.filter((n) => realTime.includes(n))) {
        it(name, { timeout: timeoutFor(name, 1, stack.name) }, async () => {
          const result = await rehearseLibrary(name, 1, wall);
          expect(result.failures, textTimeline(result)).toEqual([]);
          expect(fingerprint(result)).toEqual(fingerprint(referenceOf(name, references)));
        });
      }
    });
  }
}
