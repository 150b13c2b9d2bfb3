/**
 * `error: <preset>`: one of OpenRouter's errors, answered before any byte: the preset's exact status, body and
 * headers (wire/presets.ts), plus `Retry-After` (whole seconds, rounded up) when `retryAfter` is set.
 * With `models[]`, OpenRouter moves on to the next model instead, except for key and credit errors.
 *
 * Client observes: HTTP <status> with `{"error":{"message","code","metadata"?},"user_id"}`; the openai client
 * throws `APIError` with that status, streaming or not.
 * Failure class: the preset's (`PRESETS[preset].failureClass`): rate-limit for the 429s, account for 401/402,
 * bad-request for 400/403, timeout for 408, unavailable for 404/502/503.
 */
import { formatDuration } from '../../../contract/duration.js';
import { retryAfterHeader } from '../wire/errors.js';
import { PRESETS, presetError } from '../wire/presets.js';
import type { FaultModule } from './fault.js';

/** " with Retry-After 2s", or nothing. */
export function retryAfterText(retryAfterMs: number | undefined): string {
  return retryAfterMs === undefined ? '' : ` with Retry-After ${formatDuration(retryAfterMs)}`;
}

export const error: FaultModule<'error'> = {
  describe: (f) => `answer ${PRESETS[f.error].status} ${f.error}${retryAfterText(f.retryAfterMs)}`,
  async handle(f, ex) {
    const err = presetError(f.error, ex.presetContext());
    return { error: { ...err, headers: { ...err.headers, ...retryAfterHeader(f.retryAfterMs) } } };
  },
};
