import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import { Ticker } from './ticker.js';

/** A VirtualClock that says it runs at `speed` (the bucket width), as a ScaledClock would. */
const clockAt = (speed: number) => Object.assign(new VirtualClock(), { speed });

describe('Ticker: one timer per due instant', () => {
  it('waits due in the same wall millisecond share one timer and wake together, in the order they joined', async () => {
    const clock = clockAt(10); // a wall millisecond is 10 scenario ms
    const ticker = new Ticker(clock);
    const woke: string[] = [];
    for (const name of ['a', 'b', 'c']) ticker.at(203, () => woke.push(name));
    ticker.at(400, () => woke.push('later'));
    expect(ticker.timers).toBe(2);
    expect(clock.pending).toBe(2);
    await clock.advance(209);
    // 203 rounds up to the bucket at 210: never before its instant.
    expect(woke).toEqual([]);
    await clock.advance(1);
    expect(woke).toEqual(['a', 'b', 'c']);
    await clock.advance(190);
    expect(woke).toEqual(['a', 'b', 'c', 'later']);
    expect(ticker.timers).toBe(0);
  });

  it('on virtual time (speed Infinity) a bucket is one scenario millisecond', async () => {
    const clock = clockAt(Number.POSITIVE_INFINITY);
    const ticker = new Ticker(clock);
    const woke: number[] = [];
    ticker.at(25, () => woke.push(clock.now()));
    ticker.at(26, () => woke.push(clock.now()));
    expect(ticker.timers).toBe(2);
    await clock.advance(100);
    expect(woke).toEqual([25, 26]);
  });

  it('cancelled waits do not wake, and the last one cancelled stops its timer', async () => {
    const clock = clockAt(1);
    const ticker = new Ticker(clock);
    const woke: string[] = [];
    const cancelA = ticker.at(10, () => woke.push('a'));
    const cancelB = ticker.at(10, () => woke.push('b'));
    cancelA();
    expect(clock.pending).toBe(1);
    cancelB();
    expect(clock.pending).toBe(0);
    await clock.advance(20);
    expect(woke).toEqual([]);
  });
});
