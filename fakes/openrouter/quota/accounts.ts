/**
 * The accounts the fake has seen, one per API key (by its short hash, `keyId`; never the key). Each holds its
 * free-model counts and what it spent. Bounded: a fake flooded with made-up keys must not grow without end, so
 * the `ACCOUNTS_MAX_KEYS` most recently used keys are kept and the least recently used is forgotten (a forgotten
 * key starts over with empty counts, as if new). A Map iterates in insertion order, so deleting and re-inserting a
 * key on use makes its first entry the least recently used: an LRU in a few lines, hand-written rather than adding
 * a dependency to `@holdline/fake` for it.
 */
import { DAY_MS, nextBoundary } from '../wire/presets.js';
import { admitFree, countFree, countsAt, NO_FREE_COUNTS, type FreeCounts, type FreeLimits, type FreeVerdict } from './free-quota.js';

/** Keys remembered: a fleet uses one or a few; ten thousand is far beyond any real use and about a megabyte. */
export const ACCOUNTS_MAX_KEYS = 10_000;

interface KeyAccount {
  free: FreeCounts;
  /** USD spent since reset. */
  usageUsd: number;
  /** USD spent in the UTC day starting at `usageDayStart` (calendar epoch ms). */
  usageDailyUsd: number;
  usageDayStart: number;
  /**
   * The latest instant counted at. A request is stamped on arrival but counted once its body is read, so a large
   * body can be counted after a later request: its older instant must not move the windows back (it would see the
   * newer minute or day empty, and reset it). It counts in the window the key is in, as OpenRouter would see it.
   */
  lastAt: number;
}

/** What `/key` and `/credits` report for one key at one instant. */
export interface AccountView {
  /** Free requests counted in the current UTC day and minute. */
  free: FreeCounts;
  usageUsd: number;
  usageDailyUsd: number;
}

export class Accounts {
  private readonly keys = new Map<string, KeyAccount>();

  constructor(private readonly maxKeys = ACCOUNTS_MAX_KEYS) {}

  get size(): number {
    return this.keys.size;
  }

  /**
   * One free request by `keyId` at calendar instant `at`: counted when the windows have room (`enforce` false:
   * counted whatever they hold, never refused).
   */
  free(keyId: string, limits: FreeLimits, at: number, enforce: boolean): FreeVerdict {
    const account = this.use(keyId);
    const counted = this.advance(account, at);
    const verdict: FreeVerdict = enforce ? admitFree(account.free, limits, counted) : { admitted: true, counts: countFree(account.free, counted) };
    if (verdict.admitted) account.free = verdict.counts;
    return verdict;
  }

  /** Adds what a generation cost to the key's usage. */
  spend(keyId: string, usd: number, at: number): void {
    const account = this.use(keyId);
    const dayStart = nextBoundary(this.advance(account, at), DAY_MS) - DAY_MS;
    if (account.usageDayStart !== dayStart) {
      account.usageDayStart = dayStart;
      account.usageDailyUsd = 0;
    }
    account.usageUsd += usd;
    account.usageDailyUsd += usd;
  }

  /** The key's account as of `at` (a key never seen: nothing counted, nothing spent). Does not create one. */
  view(keyId: string, at: number): AccountView {
    const account = this.keys.get(keyId);
    const dayStart = nextBoundary(at, DAY_MS) - DAY_MS;
    return {
      free: countsAt(account?.free ?? NO_FREE_COUNTS, at),
      usageUsd: account?.usageUsd ?? 0,
      usageDailyUsd: account !== undefined && account.usageDayStart === dayStart ? account.usageDailyUsd : 0,
    };
  }

  clear(): void {
    this.keys.clear();
  }

  /** `at`, or the account's latest instant when `at` is older (see `lastAt`). */
  private advance(account: KeyAccount, at: number): number {
    account.lastAt = Math.max(account.lastAt, at);
    return account.lastAt;
  }

  /** The key's account, now the most recently used; a new key past the cap evicts the least recently used. */
  private use(keyId: string): KeyAccount {
    const found = this.keys.get(keyId);
    if (found) {
      this.keys.delete(keyId);
      this.keys.set(keyId, found);
      return found;
    }
    const account: KeyAccount = { free: NO_FREE_COUNTS, usageUsd: 0, usageDailyUsd: 0, usageDayStart: Number.NEGATIVE_INFINITY, lastAt: Number.NEGATIVE_INFINITY };
    this.keys.set(keyId, account);
    if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value as string);
    return account;
  }
}
