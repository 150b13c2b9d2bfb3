/**
 * Reconnection on the injected clock, for a clock that moves only when told (a rehearsal's virtual time).
 *
 * ioredis reconnects on its own wall-time timers (`retryStrategy`), which virtual time outruns: a Redis killed and
 * started again mid-rehearsal (`agent.redis.down`) would be back for a call or not depending on how fast the machine
 * ran the turns in between, and the same rehearsal could play out two ways. Here the client is built with a
 * retryStrategy that gives up (`GIVE_UP`: the connection ends), and each attempt is scheduled on the clock at the
 * delays ioredis would have waited (`reconnectDelay`). From an attempt until the client is ready or has ended again
 * (at most ATTEMPT_DEADLINE_MS of wall time), time is held (contract/time/held.ts): its handshake is bytes on a
 * socket to a server outside the clock, which the clock cannot see by itself. On wall time none of this is used: ioredis keeps its own reconnection.
 *
 * Hand-written: ioredis takes no timer or clock to reconnect on.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../contract/clock.js';
import { holdTime } from '../../contract/time/held.js';

/** The wait before reconnection attempt `attempt` (1, 2, ...): 100 ms more each time, at most a second. */
export const reconnectDelay = (attempt: number): number => Math.min(100 * attempt, 1_000);

/**
 * Wall ms an attempt may hold time (a Redis that accepts the connection and never answers, a name that takes long to
 * resolve): then it is dropped, which ends it like a refusal, and the next attempt waits on the clock.
 */
export const ATTEMPT_DEADLINE_MS = 2_000;

/** A retryStrategy that never retries: ioredis ends the connection, and `reconnectOnClock` takes over. */
export const GIVE_UP = (): null => null;

/** Drives `client`'s reconnection from `clock` (see above); returns the function that stops it. */
export function reconnectOnClock(client: Redis, clock: Clock): () => void {
  let attempt = 0;
  let stopped = false;
  let release: (() => void) | undefined;
  let cancel: (() => void) | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const letGo = () => {
    clearTimeout(deadline);
    release?.();
    release = undefined;
  };
  const hold = () => {
    release = holdTime();
    deadline = setTimeout(() => {
      if (client.status !== 'ready') client.disconnect();
      letGo();
    }, ATTEMPT_DEADLINE_MS).unref();
  };
  const onReady = () => {
    attempt = 0;
    letGo();
  };
  const onEnd = () => {
    letGo();
    if (stopped) return;
    attempt += 1;
    cancel = clock.schedule(() => {
      cancel = undefined;
      if (stopped || client.status !== 'end') return;
      hold();
      // A failed attempt ends the connection again ('end', above): the next one is scheduled there.
      client.connect().catch(() => undefined);
    }, reconnectDelay(attempt));
  };
  client.on('ready', onReady);
  client.on('end', onEnd);
  // The first connection, already under way: held like any attempt.
  if (client.status === 'connecting' || client.status === 'connect') hold();
  return () => {
    stopped = true;
    cancel?.();
    letGo();
    client.off('ready', onReady);
    client.off('end', onEnd);
  };
}
