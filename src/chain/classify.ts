/**
 * What went wrong with one attempt, from the status AND the body. OpenRouter reports some failures inside an
 * HTTP 200 stream (`data: {"error": {...}}`), which reach us as an error without a status whose real code is
 * in the body; a 200 that streams nothing is a failure too. Pure: no clock, no I/O.
 */
import type { FailureClass } from '../../contract/events.js';
import { clip } from '../../contract/printable.js';

/** What the attempt runner saw, gathered at the edge. */
export interface Observation {
  /** HTTP status, when response headers arrived. */
  status?: number;
  /** Response headers (lower-case names), when they arrived. */
  headers?: Record<string, string>;
  /** The error the stream ended with (as the LiveKit plugin emitted it), if any. */
  error?: unknown;
  /** A deadline of ours that fired, if any. */
  deadline?: 'headers' | 'first-token' | 'idle';
  /** True when any content token arrived. */
  gotContent: boolean;
  /** The socket error under a failed connection (`ECONNREFUSED`, `ECONNRESET`...), when the request never got a response. */
  socketCode?: string;
  /**
   * A finish that says the provider failed, in a stream that sent no error event: `finish_reason: "error"`, or a
   * `native_finish_reason` of `error` / `network_error` (attempt.ts, `failedFinish`): that reason, as sent.
   */
  failedFinish?: string;
}

export interface Failure {
  class: FailureClass;
  /** HTTP status when one was received (200 for errors inside a stream). */
  status?: number;
  /** OpenRouter's error code from the body (number or string), when there was one. */
  code?: string;
  /** Plain words for logs. Never spoken. */
  detail: string;
  /** From `Retry-After` (seconds or an HTTP date), in ms from now. */
  retryAfterMs?: number;
  /** From `X-RateLimit-Reset` (header or body metadata), epoch ms. */
  resetAtEpochMs?: number;
  /** A daily quota (free-models-per-day): keep the model out until the reset, whatever Retry-After says. */
  daily?: boolean;
  /**
   * OpenRouter's `free-models-per-min` and `free-models-per-day` 429s: the key's limits across every `:free` model,
   * not this model's (an upstream 429, "Provider returned error", is the model's own): every `:free` model of the
   * key is out until the same end (the minute's, or the day's reset at UTC midnight).
   */
  keyWide?: boolean;
  /** From `X-RateLimit-Limit` on a 429: the limit of the window that refused (a daily 429: the key's daily `:free` limit). */
  limit?: number;
  /**
   * The model id of OpenRouter's 400 `<model> is not a valid model ID`: an id OpenRouter does not know (a typo, or a
   * model it retired), so no request for it does better until the configuration changes (cooldown.ts).
   */
  invalidModel?: string;
  /**
   * For a connection failure: true when nothing listened (the connection was refused), so the server is down;
   * false when it took the connection and dropped it (a reset: it is up, and may answer the next request).
   */
  refused?: boolean;
}

interface ErrorLike {
  name?: string;
  message?: string;
  statusCode?: number;
  body?: unknown;
}

interface OpenRouterErrorBody {
  code?: number | string;
  message?: string;
  metadata?: { headers?: Record<string, string>; error_type?: string; limit_source?: string; raw?: unknown };
}

/**
 * OpenRouter's string error codes (its error docs) and the status each stands for, so a string code in a stream
 * classifies like the status would: `invalid_prompt` 400, `rate_limit_exceeded` 429, `server_error` 500+.
 */
const STRING_CODES: Record<string, number> = { invalid_prompt: 400, rate_limit_exceeded: 429, server_error: 500 };

/** `metadata.error_type` values that say more than the code: the status each stands for. */
const ERROR_TYPES: Record<string, number> = { rate_limit_exceeded: 429, provider_unavailable: 502 };

/**
 * The one 402 that is a wait, not an empty account: OpenRouter's in-flight spending budget, full with the estimated
 * cost of a prepaid account's running and recently finished paid requests. Its limits page
 * (https://openrouter.ai/docs/api_reference/limits, "In-flight spending budget"; OpenRouterTeam/docs,
 * api_reference/limits.mdx) gives `metadata.limit_source: "openrouter_in_flight_budget"` (reason
 * `in_flight_budget_exhausted`) and says "This is transient [...] The response includes a `Retry-After` header; wait
 * for it and retry." A fleet on one low-balance key meets it when its calls overlap.
 */
const IN_FLIGHT_BUDGET = 'openrouter_in_flight_budget';

/**
 * A 403 that is the key's, not the request's: the key's own spending cap, `{"error":{"message":"Key limit exceeded
 * (monthly limit). Manage it using https://openrouter.ai/settings/keys","code":403}}` (quoted in gptme/gptme#1449;
 * "(total limit)" in jalpp/chessagineweb#146, "403 Key limit exceeded" in RooCodeInc/Roo-Code#515). Every model of
 * the key gets it until someone raises the cap or it resets, like a 402. The limits page names this source
 * `openrouter_key_limit` in `metadata.limit_source`.
 */
function isKeyLimit(message: string | undefined, limitSource: string | undefined): boolean {
  return limitSource === 'openrouter_key_limit' || /^Key limit exceeded\b/i.test(message ?? '');
}

/**
 * OpenRouter's 400 for a model id it does not know, `{"error":{"message":"minimax-m2.5:free is not a valid model
 * ID","code":400},"user_id":"user_..."}` (quoted in sipeed/picoclaw#1790 and RightNow-AI/openfang#697; a retired
 * model's id gets it too: "google/gemini-2.0-pro-exp-02-05:free is not a valid model ID", maxnowack/anthropic-proxy#4).
 */
const INVALID_MODEL = /^(\S+) is not a valid model ID/;

/**
 * Characters of a failure's detail kept. The detail carries the error's message, which can be a whole body: a proxy's
 * or CDN's HTML page of hundreds of kilobytes (openai puts a non-JSON body into the message whole). It travels into
 * events, the log, Redis (the fleet's last error per backend) and every job's report to the worker, whose body limit
 * a page that size exceeds: every later report of that job was refused and its counters lost.
 */
export const FAILURE_DETAIL_MAX_CHARS = 512;

/** Classifies a failed attempt. Call only for failures (an attempt with content and no error is a success). */
export function classify(obs: Observation, nowEpochMs: number): Failure {
  const failure = classifyWhole(obs, nowEpochMs);
  return failure.detail.length > FAILURE_DETAIL_MAX_CHARS ? { ...failure, detail: clip(failure.detail, FAILURE_DETAIL_MAX_CHARS) } : failure;
}

/** `classify`, with the error's whole message in the detail (the message's every word is read to classify). */
function classifyWhole(obs: Observation, nowEpochMs: number): Failure {
  const err = (obs.error ?? undefined) as ErrorLike | undefined;
  const body = asErrorBody(err?.body);
  const headers = obs.headers ?? {};
  const statusFromError = err?.statusCode !== undefined && err.statusCode > 0 ? err.statusCode : undefined;
  const status = statusFromError ?? obs.status;
  // Inside a 200 stream the HTTP status says nothing; the body's code is the real one, a number or one of
  // OpenRouter's string codes, and `metadata.error_type` can say it more precisely still.
  const bodyCode = body?.code;
  const inStream = status === undefined || status === 200;
  const codeStatus = typeof bodyCode === 'number' ? bodyCode : typeof bodyCode === 'string' ? STRING_CODES[bodyCode] : undefined;
  const typeStatus = body?.metadata?.error_type !== undefined ? ERROR_TYPES[body.metadata.error_type] : undefined;
  const effective = inStream && (typeStatus ?? codeStatus) !== undefined ? (typeStatus ?? codeStatus) : status;
  const code = bodyCode !== undefined ? String(bodyCode) : undefined;
  // Who set a limit (`metadata.limit_source`) goes into the detail, for the logs; it does not change the class.
  const source = body?.metadata?.limit_source !== undefined ? ` (limit set by ${body.metadata.limit_source})` : '';
  const message = `${body?.message ?? err?.message ?? ''}${source}`;
  const base = { ...(status !== undefined && { status }), ...(code !== undefined && { code }) };

  if (obs.deadline === 'headers') return { class: 'timeout', ...base, detail: 'no response headers before the deadline' };
  if (obs.deadline === 'first-token') return { class: 'stall', ...base, detail: 'no content token before the deadline' };
  if (obs.deadline === 'idle') return { class: 'stall', ...base, detail: 'the stream went idle between tokens' };

  if (effective !== undefined && effective !== 200) {
    const detail = `${effective}${message ? `: ${message}` : ''}`;
    // A full in-flight budget is a limit with a told end, not an empty account: waited out like a 429.
    const inFlightBudget = effective === 402 && body?.metadata?.limit_source === IN_FLIGHT_BUDGET;
    if (effective === 429 || body?.metadata?.error_type === 'rate_limit_exceeded' || inFlightBudget) {
      const limits = { ...lower(body?.metadata?.headers), ...headers };
      const daily = /per-day|per_day|daily/i.test(message);
      // Both free-model limits are the key's (OpenRouter counts every `:free` model's requests together), the daily
      // one included: a model that met it tells of them all (`free-models-per-day-high-balance` too).
      const keyWide = /free-models-per-(min|day)/i.test(message);
      return {
        class: 'rate-limit',
        ...base,
        detail,
        ...optional('retryAfterMs', parseRetryAfter(headers['retry-after'], nowEpochMs)),
        ...optional('resetAtEpochMs', parseReset(limits['x-ratelimit-reset'])),
        ...(daily && { daily }),
        ...(keyWide && { keyWide }),
        ...optional('limit', parseLimit(limits['x-ratelimit-limit'])),
      };
    }
    if (effective === 401 || effective === 402 || (effective === 403 && isKeyLimit(body?.message, body?.metadata?.limit_source))) {
      return { class: 'account', ...base, detail };
    }
    if (effective === 400 || effective === 403 || effective === 413 || effective === 422) {
      const invalid = effective === 400 ? INVALID_MODEL.exec(body?.message ?? '')?.[1] : undefined;
      return { class: 'bad-request', ...base, detail, ...(invalid !== undefined && { invalidModel: invalid }) };
    }
    if (effective === 408) return { class: 'timeout', ...base, detail };
    if (effective === 404 || effective >= 500) {
      return { class: 'unavailable', ...base, detail, ...optional('retryAfterMs', parseRetryAfter(headers['retry-after'], nowEpochMs)) };
    }
    return { class: 'bad-request', ...base, detail };
  }

  if (body) {
    // An error event in a 200 stream with a string code ("server_error", "Provider disconnected"...).
    return { class: 'unavailable', status: 200, ...(code !== undefined && { code }), detail: `error in stream: ${message || code}` };
  }
  if (err) {
    if (err.name === 'APITimeoutError') return { class: 'timeout', ...base, detail: 'request timed out' };
    if (/JSON|Unexpected token|Unterminated string/i.test(message)) {
      return { class: 'malformed', ...base, detail: `malformed stream: ${message}` };
    }
    const socket = obs.socketCode !== undefined ? { refused: obs.socketCode === 'ECONNREFUSED' } : {};
    const why = [message, obs.socketCode].filter(Boolean).join(', ');
    return { class: 'connection', ...base, ...socket, detail: why ? `connection: ${why}` : 'connection failed' };
  }
  if (obs.failedFinish !== undefined) {
    // The provider died mid-answer and OpenRouter only said so in the finish: what came is not the whole answer.
    return { class: 'unavailable', ...base, code: obs.failedFinish, detail: `the stream finished in error (${obs.failedFinish}): the provider failed mid-answer` };
  }
  // No content at all: per OpenRouter's docs usually a cold or scaling provider, so the model is unavailable for
  // now (another model may answer), not a broken stream.
  if (!obs.gotContent) return { class: 'unavailable', ...base, code: code ?? 'empty', detail: 'the answer had no content' };
  return { class: 'connection', ...base, detail: 'the stream ended abnormally' };
}

function asErrorBody(body: unknown): OpenRouterErrorBody | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  // The plugin hands over the `error` object; be lenient if the whole envelope arrives.
  if (b.error && typeof b.error === 'object') return b.error as OpenRouterErrorBody;
  if ('code' in b || 'message' in b) return b as OpenRouterErrorBody;
  return undefined;
}

function lower(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/** `Retry-After`: delay-seconds or an HTTP date (RFC 9110). Returns ms from now. */
export function parseRetryAfter(value: string | undefined, nowEpochMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowEpochMs);
}

/** `X-RateLimit-Limit`: a whole number of requests. */
function parseLimit(value: string | undefined): number | undefined {
  const n = value === undefined ? NaN : Number(value.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** `X-RateLimit-Reset`: OpenRouter sends epoch milliseconds; accept epoch seconds too. */
export function parseReset(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n < 1e12 ? n * 1000 : n;
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** Failures that say "try again soon": only these justify holding the caller and waiting. */
export function isTransient(cls: FailureClass): boolean {
  return cls !== 'account' && cls !== 'bad-request';
}
