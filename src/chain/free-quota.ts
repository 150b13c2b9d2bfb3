/**
 * The key's daily `:free` limit, learned from its account. OpenRouter allows 50 requests a day to free models, or
 * 1000 once the account has bought at least 10 credits; which one applies is the account's, so the agent asks
 * OpenRouter (or the fake) rather than guessing: `GET /key` says it in `free_model_daily_requests` (limit and what was
 * used today), and older answers say it through `is_free_tier` (true: never bought credits, so 50). A daily 429's
 * `X-RateLimit-Limit` says it too (the chain learns from that when the account could not be asked).
 *
 * Why learn rather than default: a default of 50 would throttle a paying fleet to 5% of its quota, and a default of
 * 1000 would let a free-tier fleet send requests OpenRouter is sure to refuse. `OPENROUTER_FREE_PER_DAY` overrides.
 * This is an I/O edge at start only (one request, its own short deadline): a turn never waits for it.
 */
import { z } from 'zod';
import type { Logger } from '../observability/log.js';
import type { SharedCooldowns } from './shared-cooldowns.js';

/** OpenRouter's daily `:free` limits (its limits page): never bought credits, and at least 10 bought. */
export const FREE_PER_DAY = 50;
export const FREE_PER_DAY_HIGH_BALANCE = 1000;

/** `/key` must answer within this (wall ms): it is asked once at start, never in a turn. */
const KEY_DEADLINE_MS = 5_000;

const keyResponse = z.object({
  data: z.looseObject({
    is_free_tier: z.boolean().optional(),
    free_model_daily_requests: z.looseObject({ limit: z.number().int().positive(), used: z.number().int().nonnegative().optional() }).optional(),
  }),
});

export interface FreeDaily {
  limit: number;
  /** Requests to `:free` models the account already made today, when `/key` says. */
  used?: number;
}

/** Reads a `/key` body: the daily limit and today's use, or undefined when it says neither. */
export function freeDailyFromKey(body: unknown): FreeDaily | undefined {
  const parsed = keyResponse.safeParse(body);
  if (!parsed.success) return undefined;
  const { is_free_tier: freeTier, free_model_daily_requests: daily } = parsed.data.data;
  if (daily) return { limit: daily.limit, ...(daily.used !== undefined && { used: daily.used }) };
  if (freeTier === undefined) return undefined;
  return { limit: freeTier ? FREE_PER_DAY : FREE_PER_DAY_HIGH_BALANCE };
}

/** Asks `${baseURL}/key` once and hands the answer to the shared budget. Failures are logged, never thrown. */
export async function learnFreeDaily(shared: SharedCooldowns, baseURL: string, apiKey: string, log?: Logger): Promise<FreeDaily | undefined> {
  try {
    const response = await fetch(`${baseURL.replace(/\/+$/, '')}/key`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(KEY_DEADLINE_MS),
    });
    if (!response.ok) throw new Error(`GET /key answered ${response.status}`);
    const daily = freeDailyFromKey(await response.json());
    if (!daily) throw new Error('GET /key said neither free_model_daily_requests nor is_free_tier');
    await shared.learnFreePerDay(daily.limit, 'key', daily.used);
    return daily;
  } catch (error) {
    // The message only (never the key, which is in no message here): the budget waits for a daily 429 to learn it.
    log?.warn({ detail: (error as Error).message }, 'daily :free limit not learned from the account: only the minute budget applies until a daily 429 says it');
    return undefined;
  }
}
