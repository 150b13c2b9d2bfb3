import { describe, expect, it } from 'vitest';
import { ScaledClock, VirtualClock } from './clock.js';
import { describeValue, formatDuration, parseDuration } from './duration.js';
import { isLiteralModel, matchesGlob } from './glob.js';
import { printable } from './printable.js';

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

  it('agrees with the obvious regular expression on every short pattern and id', () => {
    const reference = (glob: string, value: string) =>
      new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^]*').replace(/\?/g, '[^]')}$`).test(value);
    const words = (alphabet: string, max: number): string[] => {
      const out = [''];
      for (let i = 0; out[i] !== undefined && (out[i] as string).length < max; i++) for (const c of alphabet) out.push(`${out[i]}${c}`);
      return out;
    };
    const values = words('ab', 5);
    for (const glob of words('ab*?', 4)) for (const value of values) expect(matchesGlob(glob, value), `${glob} ~ ${value}`).toBe(reference(glob, value));
  });

  it('work is linear in the id: a pattern that makes a regular expression backtrack costs one pass', () => {
    const n = 200_000;
    const id = 'a'.repeat(n);
    // As a regular expression (^.*a.*a...b$) this backtracks over n^26 splits.
    const stars = `${'*a'.repeat(25)}*b*`;
    const work = { comparisons: 0 };
    expect(matchesGlob(stars, id, work)).toBe(false);
    expect(work.comparisons).toBeGreaterThanOrEqual(n - 25);
    expect(work.comparisons).toBeLessThanOrEqual(n + stars.length);

    // A long piece is compared at each place at most once: (n + pattern) x piece length, no more.
    const long = `*${'a'.repeat(50)}b*`;
    const longWork = { comparisons: 0 };
    expect(matchesGlob(long, id, longWork)).toBe(false);
    expect(longWork.comparisons).toBeLessThanOrEqual((n + long.length) * 51);
    expect(matchesGlob(`*${'a*'.repeat(25)}`, id)).toBe(true);
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

describe('printable client text', () => {
  it('escapes every control a terminal acts on and clips, saying how much was cut', () => {
    expect(printable('a\tb\r\nc\u0007\u001b[31m\u009b\u200b\u2028\u202e\u2066\ufeffd')).toBe('a\\tb\\r\\nc\\u0007\\u001b[31m\\u009b\\u200b\\u2028\\u202e\\u2066\\ufeffd');
    expect(printable('meta-llama/llama-3.3-70b-instruct:free')).toBe('meta-llama/llama-3.3-70b-instruct:free');
    expect(printable('é日本語')).toBe('é日本語');
    expect(printable('x'.repeat(300))).toBe(`${'x'.repeat(256)}...(+44 characters)`);
  });
});
