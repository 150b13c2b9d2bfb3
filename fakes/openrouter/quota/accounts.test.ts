import { describe, expect, it } from 'vitest';
import { Accounts } from './accounts.js';
import { freeLimits } from './free-quota.js';

const NOON = Date.UTC(2026, 0, 15, 12, 0, 0);

describe('the accounts, one per key', () => {
  it('counts each key apart: one key spent does not refuse another', () => {
    const accounts = new Accounts();
    const limits = freeLimits(10);
    for (let i = 0; i < 20; i++) expect(accounts.free('key_a', limits, NOON + i, true).admitted).toBe(true);
    expect(accounts.free('key_a', limits, NOON + 20, true).admitted).toBe(false);
    expect(accounts.free('key_b', limits, NOON + 21, true).admitted).toBe(true);
    expect(accounts.view('key_a', NOON + 30).free.inMinute).toBe(20);
    expect(accounts.view('key_b', NOON + 30).free.inMinute).toBe(1);
  });

  it('without enforcement it counts past the limit and never refuses', () => {
    const accounts = new Accounts();
    for (let i = 0; i < 25; i++) expect(accounts.free('key_a', freeLimits(10), NOON + i, false).admitted).toBe(true);
    expect(accounts.view('key_a', NOON + 30).free).toMatchObject({ inMinute: 25, inDay: 25 });
  });

  it('keeps at most its cap of keys, forgetting the least recently used', () => {
    const accounts = new Accounts(3);
    const limits = freeLimits(10);
    for (const key of ['key_a', 'key_b', 'key_c']) accounts.free(key, limits, NOON, true);
    accounts.free('key_a', limits, NOON + 1, true); // a is now the most recently used
    accounts.free('key_d', limits, NOON + 2, true); // evicts b
    expect(accounts.size).toBe(3);
    expect(accounts.view('key_a', NOON + 3).free.inDay).toBe(2);
    expect(accounts.view('key_b', NOON + 3).free.inDay).toBe(0);
    expect(accounts.view('key_c', NOON + 3).free.inDay).toBe(1);
  });

  it('a request counted after a later one (its body read last) counts in the window the key is in, not an older one', () => {
    const accounts = new Accounts();
    const limits = freeLimits(0); // 20 a minute, 50 a day
    for (let i = 0; i < 20; i++) accounts.free('key_a', limits, NOON + i, true);
    for (let i = 0; i < 15; i++) expect(accounts.free('key_a', limits, NOON + 60_000 + i, true).admitted).toBe(true);
    // Stamped in the full minute before, counted now: it must neither pass as that minute's 21st nor empty this one.
    expect(accounts.free('key_a', limits, NOON + 59_999, true).admitted).toBe(true);
    expect(accounts.view('key_a', NOON + 60_100).free).toMatchObject({ inMinute: 16, inDay: 36 });
    for (let i = 0; i < 4; i++) expect(accounts.free('key_a', limits, NOON + 60_200 + i, true).admitted).toBe(true);
    expect(accounts.free('key_a', limits, NOON + 60_300, true).admitted).toBe(false); // 20 in this minute
  });

  it("a late request does not undo a day's change: the new day's count and usage stay", () => {
    const accounts = new Accounts();
    const midnight = Date.UTC(2026, 0, 16);
    accounts.free('key_a', freeLimits(10), midnight + 5, true);
    accounts.spend('key_a', 0.5, midnight + 5);
    accounts.free('key_a', freeLimits(10), midnight - 5, true); // stamped before midnight, counted after
    accounts.spend('key_a', 0.25, midnight - 5);
    expect(accounts.view('key_a', midnight + 10)).toMatchObject({ free: { inDay: 2 }, usageDailyUsd: 0.75, usageUsd: 0.75 });
  });

  it('a flood of distinct keys stays within the cap', () => {
    const accounts = new Accounts(100);
    for (let i = 0; i < 10_000; i++) accounts.free(`key_${i}`, freeLimits(0), NOON, true);
    expect(accounts.size).toBe(100);
  });

  it('usage adds up per key; the daily part starts over at UTC midnight', () => {
    const accounts = new Accounts();
    accounts.spend('key_a', 0.25, NOON);
    accounts.spend('key_a', 0.5, NOON + 1000);
    accounts.spend('key_b', 1, NOON);
    expect(accounts.view('key_a', NOON + 2000)).toMatchObject({ usageUsd: 0.75, usageDailyUsd: 0.75 });
    const tomorrow = Date.UTC(2026, 0, 16, 0, 0, 1);
    expect(accounts.view('key_a', tomorrow)).toMatchObject({ usageUsd: 0.75, usageDailyUsd: 0 });
    accounts.spend('key_a', 0.125, tomorrow);
    expect(accounts.view('key_a', tomorrow)).toMatchObject({ usageUsd: 0.875, usageDailyUsd: 0.125 });
  });

  it('viewing a key never seen creates nothing', () => {
    const accounts = new Accounts();
    expect(accounts.view('key_x', NOON)).toMatchObject({ usageUsd: 0, usageDailyUsd: 0, free: { inMinute: 0, inDay: 0 } });
    expect(accounts.size).toBe(0);
  });
});
