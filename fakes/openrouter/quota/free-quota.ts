/**
 * OpenRouter's free-model quota as arithmetic, pure: no clock, no I/O. Requests to `:free` model ids are limited per
 * account, across all free models, to 20 a minute and 50 a day, or 1000 a day once the account has bought at least
 * 10 credits (OpenRouter's limits page). Windows are fixed and calendar-aligned: the minute and the UTC day a request
 * arrives in, so a refusal's reset is the next minute or midnight, the instant OpenRouter's X-RateLimit-Reset names.
 *
 * What counts: every request the limiter lets through, failed ones too ("failed attempts still count toward your
 * daily quota", OpenRouter's help centre). A request the limiter refuses is not counted: it never reached a provider,
 * and counting it would not change a fixed window's reset anyway.
 */
import { DAY_MS, MINUTE_MS, nextBoundary } from '../wire/presets.js';

export const FREE_PER_MINUTE = 20;
export const FREE_PER_DAY = 50;
/** The daily limit once the account has bought `HIGH_BALANCE_CREDITS`. */
export const FREE_PER_DAY_HIGH_BALANCE = 1000;
export const HIGH_BALANCE_CREDITS = 10;

/** True for OpenRouter's rate-limited free variants (`meta-llama/llama-3.3-70b-instruct:free`). */
export function isFreeModel(model: string): boolean {
  return model.endsWith(':free');
}

export interface FreeLimits {
  perMinute: number;
  perDay: number;
  /** True when the account bought at least 10 credits (its daily 429 says `free-models-per-day-high-balance`). */
  highBalance: boolean;
}

export function freeLimits(creditsBought: number): FreeLimits {
  const highBalance = creditsBought >= HIGH_BALANCE_CREDITS;
  return { perMinute: FREE_PER_MINUTE, perDay: highBalance ? FREE_PER_DAY_HIGH_BALANCE : FREE_PER_DAY, highBalance };
}

/** One account's free requests, in the windows they were counted in (window starts in calendar epoch ms). */
export interface FreeCounts {
  minuteStart: number;
  inMinute: number;
  dayStart: number;
  inDay: number;
}

export const NO_FREE_COUNTS: FreeCounts = { minuteStart: Number.NEGATIVE_INFINITY, inMinute: 0, dayStart: Number.NEGATIVE_INFINITY, inDay: 0 };

/** The counts as of calendar instant `at`: a window that has ended counts zero. */
export function countsAt(counts: FreeCounts, at: number): FreeCounts {
  const minuteStart = nextBoundary(at, MINUTE_MS) - MINUTE_MS;
  const dayStart = nextBoundary(at, DAY_MS) - DAY_MS;
  return {
    minuteStart,
    inMinute: counts.minuteStart === minuteStart ? counts.inMinute : 0,
    dayStart,
    inDay: counts.dayStart === dayStart ? counts.inDay : 0,
  };
}

export type FreeWindow = 'minute' | 'day';

/** Why the limiter refuses: which window is full, its limit, and when it resets (calendar epoch ms). */
export interface FreeRefusal {
  window: FreeWindow;
  limit: number;
  resetEpochMs: number;
}

export type FreeVerdict = { admitted: true; counts: FreeCounts } | { admitted: false; counts: FreeCounts; refusal: FreeRefusal };

/**
 * One more free request at calendar instant `at`. A full day is named before a full minute: its reset is the later
 * one, and a client that waited only for the minute would be refused again.
 */
export function admitFree(counts: FreeCounts, limits: FreeLimits, at: number): FreeVerdict {
  const now = countsAt(counts, at);
  if (now.inDay >= limits.perDay) {
    return { admitted: false, counts: now, refusal: { window: 'day', limit: limits.perDay, resetEpochMs: now.dayStart + DAY_MS } };
  }
  if (now.inMinute >= limits.perMinute) {
    return { admitted: false, counts: now, refusal: { window: 'minute', limit: limits.perMinute, resetEpochMs: now.minuteStart + MINUTE_MS } };
  }
  return { admitted: true, counts: countOne(now) };
}

/** Counts one request whatever the limits (an account exempt from the quota is still counted, as `/key` shows). */
export function countFree(counts: FreeCounts, at: number): FreeCounts {
  return countOne(countsAt(counts, at));
}

function countOne(now: FreeCounts): FreeCounts {
  return { ...now, inMinute: now.inMinute + 1, inDay: now.inDay + 1 };
}
