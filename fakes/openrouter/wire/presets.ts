/**
 * The error presets a scenario names (`then: { error: rate-limit-per-minute }`), each tied to OpenRouter's
 * status, message, metadata and headers: one fixed table, as Toxiproxy keeps its errors.
 *
 * Sources: OpenRouter's error docs (statuses, moderation and provider metadata, Retry-After) and bodies quoted
 * verbatim in public issue threads (the 429 free-models messages and X-RateLimit headers, the upstream 429's
 * `raw`, "User not found.", the 402 and 404 messages). Where no exact text was public the wording is the fake's
 * own, marked "fake's wording" below; "No allowed providers..." was seen with 404 in threads, the docs give 503
 * for "no provider meets the routing requirements", and the fake follows the docs.
 */
import type { FailureClass } from '../../../contract/events.js';
import type { ErrorPreset } from '../../../contract/scenario/schema.js';
import type { OpenRouterError } from './errors.js';

export interface PresetContext {
  /** The model the error is about. */
  model: string;
  /** The provider OpenRouter routed that model to. */
  provider: string;
  /** The request's arrival on the scenario calendar: epoch ms as if the scenario ran at speed 1 from its origin. */
  scenarioEpochMs: number;
  /** Maps a scenario-calendar epoch ms to the wall-clock epoch ms at which it happens at the current speed. */
  toWallEpochMs(scenarioEpochMs: number): number;
}

interface PresetRow {
  status: number;
  /** Whether `models[]` fallback moves on. Key and credit checks happen before routing, so they never do. */
  fallsBack: boolean;
  /** How a client should classify it (contract/events.ts). */
  failureClass: FailureClass;
  build(ctx: PresetContext): Pick<OpenRouterError, 'message' | 'metadata' | 'headers' | 'authenticated'>;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The next multiple of `periodMs` strictly after `epochMs` (the next minute, the next UTC midnight). */
export function nextBoundary(epochMs: number, periodMs: number): number {
  return Math.floor(epochMs / periodMs) * periodMs + periodMs;
}

/**
 * OpenRouter's own 429 messages for the free-model limits (quoted verbatim in public issue threads; the trailing
 * space of the per-minute one included). `perDayHighBalance` is the daily limit of an account that bought 10 credits.
 */
export const FREE_LIMIT_MESSAGES = {
  perMinute: 'Rate limit exceeded: free-models-per-min. ',
  perDay: 'Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day',
  perDayHighBalance: 'Rate limit exceeded: free-models-per-day-high-balance.',
} as const;

/**
 * A platform 429 (the free-model limiter's): the X-RateLimit headers both as headers and in `metadata.headers`,
 * the reset the next `periodMs` boundary of the calendar instant, told in wall-clock epoch ms at the current speed.
 */
export function platformRateLimit(limit: number, periodMs: number, message: string, ctx: Pick<PresetContext, 'scenarioEpochMs' | 'toWallEpochMs'>) {
  const headers = {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': '0',
    'X-RateLimit-Reset': String(Math.ceil(ctx.toWallEpochMs(nextBoundary(ctx.scenarioEpochMs, periodMs)))),
  };
  return { message, metadata: { headers }, headers };
}

export const PRESETS = {
  'rate-limit-per-minute': {
    status: 429,
    failureClass: 'rate-limit',
    fallsBack: true,
    build: (ctx) => platformRateLimit(20, MINUTE_MS, FREE_LIMIT_MESSAGES.perMinute, ctx),
  },
  'rate-limit-per-day': {
    status: 429,
    failureClass: 'rate-limit',
    fallsBack: true,
    build: (ctx) => platformRateLimit(50, DAY_MS, FREE_LIMIT_MESSAGES.perDay, ctx),
  },
  'upstream-rate-limit': {
    status: 429,
    failureClass: 'rate-limit',
    fallsBack: true,
    build: (ctx) => ({
      message: 'Provider returned error',
      metadata: {
        raw: `${ctx.model} is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations`,
        provider_name: ctx.provider,
      },
    }),
  },
  'no-endpoints': { status: 404, failureClass: 'unavailable', fallsBack: true, build: (ctx) => ({ message: `No endpoints found for ${ctx.model}.` }) },
  'insufficient-credits': {
    status: 402,
    failureClass: 'account',
    fallsBack: false,
    build: () => ({ message: 'Insufficient credits. Add more using https://openrouter.ai/settings/credits' }),
  },
  'invalid-key': { status: 401, failureClass: 'account', fallsBack: false, build: () => ({ message: 'User not found.', authenticated: false }) },
  moderation: {
    status: 403,
    failureClass: 'bad-request',
    fallsBack: true,
    // The message is the fake's wording; the metadata fields are the documented ones.
    build: (ctx) => ({
      message: `${ctx.model} requires moderation on ${ctx.provider}. Your input was flagged for "harassment".`,
      metadata: { reasons: ['harassment'], flagged_input: 'You are useless...', provider_name: ctx.provider, model_slug: ctx.model },
    }),
  },
  // The fake's wording (the docs give only "Your request timed out" as the meaning of 408).
  timeout: { status: 408, failureClass: 'timeout', fallsBack: true, build: () => ({ message: 'Request timed out' }) },
  'provider-down': {
    status: 502,
    failureClass: 'unavailable',
    fallsBack: true,
    // `raw` is the fake's wording: it stands for whatever the provider sent back.
    build: (ctx) => ({ message: 'Provider returned error', metadata: { provider_name: ctx.provider, raw: 'Service Unavailable' } }),
  },
  'no-provider': {
    status: 503,
    failureClass: 'unavailable',
    fallsBack: true,
    build: () => ({ message: 'No allowed providers are available for the selected model.' }),
  },
  'bad-request': {
    status: 400,
    failureClass: 'bad-request',
    fallsBack: true,
    // A context-length error, the model-caused 400 the docs say triggers fallback.
    build: () => ({ message: contextLengthMessage(131_072, 131_072, 8192) }),
  },
} as const satisfies Record<ErrorPreset, PresetRow>;

/**
 * OpenRouter's 400 for a request larger than the model's context window (the wording quoted in public threads; the
 * numbers are the request's): prompt tokens plus the tokens asked for the output.
 */
export function contextLengthMessage(contextLength: number, promptTokens: number, outputTokens: number): string {
  return `This endpoint's maximum context length is ${contextLength} tokens. However, you requested about ${promptTokens + outputTokens} tokens (${promptTokens} of text input, ${outputTokens} in the output). Please reduce the length of either one, or use the "middle-out" transform to compress your prompt automatically.`;
}

/**
 * OpenRouter's typed `error_type` for a preset's error, where its errors docs' table ("Typed Error Codes",
 * OpenRouterTeam/docs api_reference/errors-and-debugging.mdx) gives one for that status and meaning: the docs say a
 * provider error "that interrupts generation carries `error_type` inside `error.metadata`", mid-stream chunk included,
 * and call it "the field to rely on". Moderation (403 here, content_policy_violation 400 there) and the 408 timeout
 * (504 there) have no clean match and get none.
 */
export const ERROR_TYPES: Partial<Record<ErrorPreset, string>> = {
  'rate-limit-per-minute': 'rate_limit_exceeded',
  'rate-limit-per-day': 'rate_limit_exceeded',
  'upstream-rate-limit': 'rate_limit_exceeded',
  'provider-down': 'provider_unavailable',
  'no-provider': 'provider_overloaded',
  'no-endpoints': 'not_found',
  'insufficient-credits': 'payment_required',
  'invalid-key': 'authentication',
  'bad-request': 'context_length_exceeded',
};

/** The full error a preset answers with for one request. */
export function presetError(preset: ErrorPreset, ctx: PresetContext): OpenRouterError {
  const row: PresetRow = PRESETS[preset];
  return { status: row.status, fallsBack: row.fallsBack, ...row.build(ctx) };
}
