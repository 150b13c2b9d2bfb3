import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ticker } from './ticker.js';

describe('Ticker: one timer per due wall millisecond', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('waits due in the same millisecond share one timer and wake together, in the order they joined', () => {
    const ticker = new Ticker();
    const woke: string[] = [];
    for (const name of ['a', 'b', 'c']) ticker.at(1_000_020.3, () => woke.push(name));
    ticker.at(1_000_040, () => woke.push('later'));
    expect(ticker.timers).toBe(2);
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(20);
    // 1_000_020.3 rounds up: never before its instant.
    expect(woke).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(woke).toEqual(['a', 'b', 'c']);
    vi.advanceTimersByTime(19);
    expect(woke).toEqual(['a', 'b', 'c', 'later']);
    expect(ticker.timers).toBe(0);
  });

  it('a timer that fires early (Node may, by a millisecond) waits again', () => {
    let skew = 1;
    const ticker = new Ticker(() => Date.now() - skew);
    const woke: number[] = [];
    ticker.at(1_000_010, () => woke.push(Date.now()));
    vi.advanceTimersByTime(10);
    expect(woke).toEqual([]);
    skew = 0;
    vi.advanceTimersByTime(1);
    expect(woke).toEqual([1_000_011]);
  });

  it('cancelled waits do not wake, and the last one cancelled stops its timer', () => {
    const ticker = new Ticker();
    const woke: string[] = [];
    const cancelA = ticker.at(1_000_010, () => woke.push('a'));
    const cancelB = ticker.at(1_000_010, () => woke.push('b'));
    cancelA();
    expect(vi.getTimerCount()).toBe(1);
    cancelB();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(20);
    expect(woke).toEqual([]);
  });
});
