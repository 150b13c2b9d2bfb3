/**
 * `status: N`: an arbitrary HTTP error in OpenRouter's error shape, for statuses no preset covers. `message`
 * defaults to the reason phrase ("Too Many Requests"); `metadata` goes into the body, `headers` onto the response,
 * `retryAfter` adds `Retry-After`. `models[]` falls back from it like from a preset, except for 401 and 402.
 *
 * Client observes: HTTP N with `{"error":{"message","code":N,"metadata"?},"user_id"}`; the openai client throws
 * `APIError` with status N.
 * Failure class: by status: 429 rate-limit, 401/402 account, 408 timeout, other 4xx bad-request, 5xx unavailable;
 * and by body where OpenRouter's says more (its limits page, public threads): a 402 whose `metadata.limit_source` is
 * `openrouter_in_flight_budget` is a rate limit, a 403 "Key limit exceeded (...)" the account's.
 */
import { reasonPhrase, retryAfterHeader } from '../wire/errors.js';
import { retryAfterText } from './error.js';
import type { FaultModule } from './fault.js';

/** The scripted headers plus `retryAfter`'s, which replaces a scripted Retry-After however it is cased (never two). */
function withRetryAfter(headers: Record<string, string> = {}, retryAfterMs: number | undefined): Record<string, string> {
  if (retryAfterMs === undefined) return headers;
  const kept = Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'retry-after');
  return { ...Object.fromEntries(kept), ...retryAfterHeader(retryAfterMs) };
}

export const status: FaultModule<'status'> = {
  describe: (f) => `answer ${f.status} "${f.message ?? reasonPhrase(f.status)}"${retryAfterText(f.retryAfterMs)}`,
  async handle(f) {
    return {
      error: {
        status: f.status,
        message: f.message ?? reasonPhrase(f.status),
        ...(f.metadata !== undefined && { metadata: f.metadata }),
        headers: withRetryAfter(f.headers, f.retryAfterMs),
        fallsBack: f.status !== 401 && f.status !== 402,
        authenticated: f.status !== 401,
      },
    };
  },
};
