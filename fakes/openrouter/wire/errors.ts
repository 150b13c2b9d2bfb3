/**
 * OpenRouter's error body and the messages the fake answers with outside of scenario faults.
 *
 * Shape, as in OpenRouter's docs and in bodies quoted in public issue threads:
 *   {"error":{"message":"No auth credentials found","code":401}}
 *   {"error":{"message":"No endpoints found for x/y:free.","code":404},"user_id":"user_..."}
 * Key order follows the observed bodies (message before code). `user_id` is present once the key is known.
 */
import { STATUS_CODES } from 'node:http';
import { base62 } from '../seeded.js';

/** An OpenRouter error answered before the stream starts (HTTP status = `error.code`). */
export interface OpenRouterError {
  status: number;
  message: string;
  metadata?: Record<string, unknown>;
  /** Extra response headers (X-RateLimit-*, Retry-After). */
  headers?: Record<string, string>;
  /** True when OpenRouter would move on to the next model of `models[]` instead of answering this. */
  fallsBack: boolean;
  /** False for errors raised before the key is known (no `user_id` in the body). */
  authenticated?: boolean;
}

export interface ErrorBody {
  error: { message: string; code: number; metadata?: Record<string, unknown> };
  user_id?: string;
}

export function errorBody(err: Pick<OpenRouterError, 'status' | 'message' | 'metadata'>, userId?: string): ErrorBody {
  return {
    error: { message: err.message, code: err.status, ...(err.metadata !== undefined && { metadata: err.metadata }) },
    ...(userId !== undefined && { user_id: userId }),
  };
}

/** The fake's account id in error bodies: stable per seed, shaped like OpenRouter's (`user_` + 27 characters). */
export function userIdFor(seed: number): string {
  return `user_${base62(27, seed, 'user')}`;
}

/** A `Retry-After` value: whole seconds, rounded up (a client must not retry early). */
export function retryAfterHeader(retryAfterMs: number | undefined): Record<string, string> {
  return retryAfterMs === undefined ? {} : { 'Retry-After': String(Math.ceil(retryAfterMs / 1000)) };
}

/** Node's reason phrase for a status ("Too Many Requests"), used when a `status` fault names no message. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}

/** The most entries OpenRouter accepts in a request's `models` (OBSERVED.tooManyModels). */
export const MODELS_MAX = 3;

/** Messages seen from OpenRouter in public issue threads (quoted there verbatim). */
export const OBSERVED = {
  /** 401 without (or with an unreadable) Authorization header. */
  noAuth: 'No auth credentials found',
  /** 400 when `messages` (or `prompt`) is missing. */
  noInput: 'Input required: specify "prompt" or "messages"',
  /** 404 for a model nobody serves. */
  noEndpoints: (model: string) => `No endpoints found for ${model}.`,
  /** 404 for an unknown path. */
  notFound: 'Not Found',
  /** 404 when a request offers `tools` and no endpoint of the model supports tool use (quoted in public threads). */
  noToolEndpoints:
    'No endpoints found that support tool use. To learn more about provider routing, visit: https://openrouter.ai/docs/guides/routing/provider-selection',
  /**
   * 400 when `models` (the server-side fallback list) has more than `MODELS_MAX` entries (quoted in coder/xum#2963,
   * and a live boundary check in ever-co/ever-gauzy#9915: 3 accepted, 4 refused; the docs give no number).
   */
  tooManyModels: `'models' array must have ${MODELS_MAX} items or fewer.`,
} as const;

/**
 * Messages the fake had to word itself: no public thread quotes OpenRouter's exact text for these cases.
 * They keep OpenRouter's shape and status, so clients that classify by status and shape are unaffected.
 */
export const FAKE_WORDED = {
  notJson: 'Invalid JSON in request body',
  tooLarge: (limitBytes: number) => `Request body too large: the limit is ${limitBytes} bytes`,
  generationNotFound: (id: string) => `Generation ${id} not found`,
  internal: 'Internal Server Error',
} as const;
