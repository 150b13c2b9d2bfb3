import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { clockChild, killChildren } from '../../contract/time/fixtures/children.js';
import { participantNames, startStackClock, startWhenJoined, type StackClock } from './stack-clock.js';

let clock: StackClock | undefined;
/** The participants: children, as the stacks' services (one clock per process). */
const children: ChildProcess[] = [];
afterEach(async () => {
  await killChildren(children);
  await clock?.coordinator.stop();
  clock = undefined;
});

/** Resolves once the child printed its URL, which it does after joining. */
async function join(c: StackClock, name: string): Promise<void> {
  const child = clockChild(c.address, name, c.coordinator.token);
  children.push(child);
  await once(child.stdout as NodeJS.ReadableStream, 'data');
}

describe("a stack's virtual clock", () => {
  it('names the fake and each call\'s agent as every stack does: agent alone, agent-1..N in a fleet', () => {
    expect(participantNames(1)).toEqual(['fake', 'agent']);
    expect(participantNames(3)).toEqual(['fake', 'agent-1', 'agent-2', 'agent-3']);
  });

  it('a participant that never joins fails the start, named', async () => {
    clock = await startStackClock();
    await join(clock, 'fake');
    await expect(startWhenJoined(clock, 2, 300)).rejects.toThrow('never joined the virtual clock within 0.3 s: agent-1, agent-2');
  });

  it('starts time once everyone has joined', async () => {
    clock = await startStackClock();
    const c = clock;
    const started = startWhenJoined(c, 1, 10_000);
    await Promise.all(['agent', 'fake'].map((name) => join(c, name)));
    await started;
    expect(c.coordinator.participants().sort()).toEqual(['agent', 'fake', 'runner']);
  });
});
