import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SharedMirror } from './shared-mirror.js';

const CHANNEL = 'holdline:updates:test';

/** A subscriber connection that is ready and subscribes at once; the test plays Redis's messages and snapshots. */
function subscriber(): Redis & EventEmitter {
  const fake = new EventEmitter() as EventEmitter & { status: string; subscribe: () => Promise<number>; disconnect: () => void };
  fake.status = 'ready';
  fake.subscribe = () => Promise.resolve(1);
  fake.disconnect = () => {
    fake.status = 'end';
    fake.emit('end');
  };
  return fake as unknown as Redis & EventEmitter;
}

async function following(): Promise<{ mirror: SharedMirror; redis: Redis & EventEmitter }> {
  const redis = subscriber();
  const mirror = new SharedMirror(redis, CHANNEL);
  await new Promise((resolve) => mirror.once('stale', resolve)); // subscribed: the store answers with a snapshot
  mirror.applySnapshot(10, new Map([['m', undefined]]));
  expect(mirror.live).toBe(true);
  return { mirror, redis };
}

const publish = (redis: EventEmitter, version: number, model: string, fields: string[]): void => {
  redis.emit('message', CHANNEL, JSON.stringify([version, model, fields]));
};

/** A wait for `version`, and whether it has ended once the microtasks and I/O callbacks queued so far have run. */
function waitFor(mirror: SharedMirror, version: number): { settled: () => Promise<boolean> } {
  let done = false;
  void mirror.reached(version).then(() => (done = true));
  return { settled: () => new Promise((resolve) => setImmediate(() => resolve(done))) };
}

describe('SharedMirror', () => {
  it('follows Redis again only after a snapshot that covers the messages a gap lost, not one read before it', async () => {
    const { mirror, redis } = await following();
    publish(redis, 11, 'm', ['until', '1']);
    publish(redis, 13, 'm', ['until', '3']); // 12 was lost (the connection's buffer overflowed)
    expect(mirror.live).toBe(false);
    // A snapshot read at 11, on its way when the gap was found: it knows nothing of 12.
    mirror.applySnapshot(11, new Map([['m', { until: '1' }]]));
    expect(mirror.live).toBe(false);
    expect(mirror.fieldsOf('m')).toBeUndefined();
    // The snapshot the gap asked for: read after it, so at 13 or later.
    mirror.applySnapshot(13, new Map([['m', { until: '3' }]]));
    expect(mirror.live).toBe(true);
    expect(mirror.fieldsOf('m')).toEqual({ until: '3' });
    await mirror.close();
  });

  it('lets a wait for a version go when the versions go back (Redis restarted): the new Redis may never reach it', async () => {
    const { mirror, redis } = await following();
    const waiting = waitFor(mirror, 40);
    publish(redis, 11, 'm', ['until', '1']);
    expect(await waiting.settled()).toBe(false); // 11 is not 40: still waiting
    publish(redis, 1, 'm', ['until', '2']); // restarted: its versions start again
    expect(await waiting.settled()).toBe(true);
    expect(mirror.live).toBe(false); // the waiter finds the copy not following and reads a snapshot instead
    await mirror.close();
  });

  it('lets a wait for a version go when the connection closes', async () => {
    const { mirror, redis } = await following();
    const waiting = waitFor(mirror, 40);
    redis.emit('close');
    expect(await waiting.settled()).toBe(true);
    expect(mirror.live).toBe(false);
    await mirror.close();
  });
});
