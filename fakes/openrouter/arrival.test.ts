import { describe, expect, it } from 'vitest';
import type { Clock } from '../../contract/clock.js';
import { Arrivals } from './arrival.js';

/** A clock whose now the test sets, at `speed` (finite: a ScaledClock on wall time; Infinity: virtual time). */
function clockAt(speed: number) {
  const clock = { at: 0, speed, now: () => clock.at };
  return clock as typeof clock & Clock;
}
const nextPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Arrivals: one stamp per phase of reading', () => {
  it('on a wall clock, requests read in the same phase share the first one’s stamp; the next phase gets a new one', async () => {
    const clock = clockAt(1);
    const arrivals = new Arrivals(clock);
    clock.at = 100;
    expect(arrivals.now()).toBe(100);
    // Reading the burst's next requests took 7 ms: they were in their sockets when the phase began.
    clock.at = 107;
    expect(arrivals.now()).toBe(100);
    await nextPhase();
    expect(arrivals.now()).toBe(107);
  });

  it('on virtual time every request gets the clock’s own now, as before', () => {
    const clock = clockAt(Number.POSITIVE_INFINITY);
    const arrivals = new Arrivals(clock);
    expect(arrivals.now()).toBe(0);
    clock.at = 5;
    expect(arrivals.now()).toBe(5);
  });

  it('after the clock is reset, forget() dates the requests read next by the new clock, not the stamp before', () => {
    const clock = clockAt(1);
    const arrivals = new Arrivals(clock);
    clock.at = 50;
    expect(arrivals.now()).toBe(50);
    clock.at = 0;
    arrivals.forget();
    expect(arrivals.now()).toBe(0);
  });
});
