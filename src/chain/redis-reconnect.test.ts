/**
 * Reconnection on the injected clock (virtual time), on a REAL Redis (redis-server killed and started again): the
 * client tries again only when the clock says, at ioredis's own delays, and time is held from each attempt until
 * the client is ready or has given up.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import { timeHeld } from '../../contract/time/held.js';
import { startRedisServer, type RedisServer } from '../testing/redis-server.js';
import { GIVE_UP, reconnectDelay, reconnectOnClock } from './redis-reconnect.js';

let server: RedisServer | undefined;
let client: Redis | undefined;
let stop: (() => void) | undefined;
/** The client's next `event` (events.once would reject on the 'error' a refused attempt emits first). */
const next = (event: string) => new Promise<void>((resolve) => client?.once(event, () => resolve()));

afterEach(async () => {
  stop?.();
  client?.disconnect();
  await server?.stop();
  server = client = stop = undefined;
});

describe('reconnectOnClock', () => {
  it('waits ioredis\'s delays on the clock, not the wall, and holds time from each attempt until it is settled', async () => {
    server = await startRedisServer();
    const clock = new VirtualClock();
    client = new Redis(server.url, { retryStrategy: GIVE_UP, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined); // refused attempts, expected here
    stop = reconnectOnClock(client, clock);
    // The first connection is held like any attempt.
    expect(timeHeld()).toBe(true);
    await next('ready');
    expect(timeHeld()).toBe(false);

    const ended = next('end');
    await server.kill();
    await ended;
    // Given up, as told: the next attempt waits on the clock, 100 ms for the first.
    expect(client.status).toBe('end');
    expect(clock.nextAt).toBe(reconnectDelay(1));
    expect(timeHeld()).toBe(false);

    // An attempt while Redis is still down fails, and the next waits longer; time is held while it is under way.
    const heldWhileConnecting: boolean[] = [];
    client.on('connecting', () => heldWhileConnecting.push(timeHeld()));
    const failed = next('end');
    await clock.advance(100);
    await failed;
    expect(heldWhileConnecting).toEqual([true]);
    expect(timeHeld()).toBe(false);
    expect(clock.nextAt).toBe(100 + reconnectDelay(2));

    // Back on the wall at once, but the client only when the clock reaches its next attempt.
    await server.restart();
    expect(client.status).toBe('end');
    const ready = next('ready');
    await clock.advance(reconnectDelay(2));
    await ready;
    expect(heldWhileConnecting).toEqual([true, true]);
    expect(timeHeld()).toBe(false);
    expect(await client.ping()).toBe('PONG');
    // Ready again: the delays start over at the next outage.
    expect(clock.pending).toBe(0);
  });

  it('stops: no attempt after, no time held', async () => {
    server = await startRedisServer();
    const clock = new VirtualClock();
    client = new Redis(server.url, { retryStrategy: GIVE_UP, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    stop = reconnectOnClock(client, clock);
    await next('ready');
    const ended = next('end');
    await server.kill();
    await ended;
    stop();
    await clock.advance(5_000);
    expect(client.status).toBe('end');
    expect(timeHeld()).toBe(false);
  });
});
