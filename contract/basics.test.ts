import { describe, expect, it } from 'vitest';
import { ScaledClock, VirtualClock } from './clock.js';
import { describeValue, formatDuration, parseDuration } from './duration.js';
import { isLiteralModel, matchesGlob } from './glob.js';

describe('durations', () => {
  it('parse with a unit, reject bare numbers', () => {
    expect(['250ms', '8s', '1.5s', '1m', ' 2s '].map(parseDuration)).toEqual([250, 8000, 1500, 60_000, 2000]);
    expect(['2', '2h', '', '-1s', 's'].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('format shortest', () => {
    expect([0, 250, 1000, 1500, 60_000, 90_000].map(formatDuration)).toEqual(['0ms', '250ms', '1s', '1.5s', '1m', '90s']);
    expect([describeValue('x'), describeValue(2), describeValue(undefined)]).toEqual(['"x"', '2', 'nothing']);
  });

  it('a value quoted back is one line of at most 80 characters, whatever it is', () => {
    expect(describeValue('a\nb\u001b[2J')).toBe('"a\\nb\\u001b[2J"');
    expect(describeValue('x'.repeat(1_000_000))).toBe(`"${'x'.repeat(79)}... (1000002 characters)`);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(describeValue(cycle)).toBe('[object Object]');
  });
});

describe('model globs', () => {
  it('* crosses the slash, ? is one character, everything else is literal', () => {
    expect(matchesGlob('*', 'meta-llama/llama-3.3-70b-instruct:free')).toBe(true);
    expect(matchesGlob('*:free', 'qwen/qwen-2.5-72b-instruct:free')).toBe(true);
    expect(matchesGlob('qwen/*', 'meta-llama/x')).toBe(false);
    expect(matchesGlob('a/b?', 'a/bc')).toBe(true);
    expect(matchesGlob('a.b', 'aXb')).toBe(false);
    expect([isLiteralModel('a/b:free'), isLiteralModel('a/*')]).toEqual([true, false]);
  });
});

describe('clocks', () => {
  it('ScaledClock maps scenario time to wall time and back', () => {
    const clock = new ScaledClock(20, 1_000_000);
    expect(clock.toWallMs(2000)).toBe(100);
    expect(clock.toEpochMs(2000)).toBe(1_000_100);
    clock.resetTo(5_000);
    expect(clock.origin).toBe(5_000);
    expect(() => new ScaledClock(0)).toThrow('speed must be a positive number, got 0');
  });

  it('ScaledClock never wakes before the scenario instant it was asked for', async () => {
    // Node timers may fire up to a wall millisecond early; at speed 10 that was ten scenario ms, enough for
    // a pass to find the cooldown it waited for not yet over.
    const clock = new ScaledClock(10);
    let early = 0;
    for (let i = 0; i < 60; i++) {
      const target = clock.now() + 5 + (i % 7) * 3;
      await clock.sleep(target - clock.now());
      if (clock.now() < target) early++;
    }
    expect(early).toBe(0);
  });

  it('VirtualClock fires due timers in order, each at its own time', async () => {
    const clock = new VirtualClock();
    const seen: [string, number][] = [];
    clock.schedule(() => seen.push(['b', clock.now()]), 200);
    clock.schedule(() => seen.push(['a', clock.now()]), 100);
    const cancel = clock.schedule(() => seen.push(['never', clock.now()]), 150);
    cancel();
    await clock.advance(250);
    expect(seen).toEqual([
      ['a', 100],
      ['b', 200],
    ]);
    expect(clock.now()).toBe(250);
  });

  it('VirtualClock sleeps reject when aborted', async () => {
    const clock = new VirtualClock();
    const abort = new AbortController();
    const sleeping = clock.sleep(1000, abort.signal);
    abort.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });
});
