/**
 * The agent's configuration, from the environment (and `.env`). Validated once at start: every problem is
 * listed at once, each with the variable's name and what is wrong, and the process exits 1. `.env.example`
 * documents each variable with its default; a test keeps the two in step.
 *
 * Durations are integer milliseconds in variables ending in `_MS` (the unit is in the name, so "5" can't be
 * misread). Timers run on the agent's clock, so rehearsal's `--speed N` compresses them all.
 */
import { z } from 'zod';

const DEFAULT_MODEL = 'meta-llama/llama-3.3-70b-instruct:free';

const ms = (defaultMs: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected whole milliseconds like ${defaultMs}, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .optional()
    .transform((v) => v ?? defaultMs);

const url = (fallback: string) =>
  z
    .url({ protocol: /^https?$/, error: (i) => `expected an http(s) URL, got ${JSON.stringify(i.input)}` })
    .optional()
    .transform((v): string => v ?? fallback);

// Blank values never reach the schema: loadConfig drops them first, so absent is the only "not set".
const text = (fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => v ?? fallback);

const optionalText = z.string().trim().optional();

/** `LLM_MODEL`: a comma-separated chain; blanks and duplicates are errors, not silently dropped. */
const modelChain = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return [DEFAULT_MODEL];
    const models = raw.split(',').map((m) => m.trim());
    models.forEach((model, i) => {
      if (model === '') ctx.addIssue({ code: 'custom', message: `entry ${i + 1} is blank (in ${JSON.stringify(raw)})` });
      else if (/\s/.test(model)) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} contains whitespace: ${JSON.stringify(model)}` });
      else if (models.indexOf(model) !== i) ctx.addIssue({ code: 'custom', message: `duplicate model ${JSON.stringify(model)}` });
    });
    return models;
  });

const envSchema = z.object({
  // OpenRouter
  OPENROUTER_API_KEY: optionalText,
  OPENROUTER_BASE_URL: url('https://openrouter.ai/api/v1'),
  LLM_MODEL: modelChain,
  OPENROUTER_APP_URL: optionalText,
  OPENROUTER_APP_NAME: text('holdline'),
  OPENROUTER_HEADERS_TIMEOUT_MS: ms(5_000),
  OPENROUTER_FIRST_TOKEN_TIMEOUT_MS: ms(8_000),
  OPENROUTER_IDLE_TIMEOUT_MS: ms(5_000),
  // Sent with every request, to OpenRouter and the local server alike: a spoken answer needs a cap.
  LLM_MAX_TOKENS: z
    .string()
    .trim()
    .regex(/^[1-9]\d*$/, { error: (i) => `expected a whole number of tokens like 1000, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .optional()
    .transform((v) => v ?? 1000),
  LLM_TEMPERATURE: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, { error: (i) => `expected a number from 0 to 2 like 0.7, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .refine((t) => t <= 2, { error: 'expected a number from 0 to 2' })
    .optional()
    .transform((v) => v ?? 0.7),
  // The local llama.cpp server: always the last backend. Slower on a CPU, so it has its own deadlines.
  LOCAL_LLM_BASE_URL: url('http://localhost:11434/v1'),
  LOCAL_LLM_MODEL: text('local'),
  LOCAL_HEADERS_TIMEOUT_MS: ms(5_000),
  LOCAL_FIRST_TOKEN_TIMEOUT_MS: ms(20_000),
  LOCAL_IDLE_TIMEOUT_MS: ms(10_000),
  // The failure policy
  RETRY_WINDOW_MS: ms(60_000),
  BACKOFF_INITIAL_MS: ms(1_000),
  BACKOFF_MAX_MS: ms(8_000),
  RATE_LIMIT_COOLDOWN_MS: ms(2_000),
  NOT_FOUND_COOLDOWN_MS: ms(300_000),
  UNAVAILABLE_COOLDOWN_MS: ms(2_000),
  TIMEOUT_COOLDOWN_MS: ms(30_000),
  ACCOUNT_COOLDOWN_MS: ms(600_000),
  COOLDOWN_MAX_MS: ms(60_000),
  // Never a long silence; hedging a late first token (see .env.example for why these defaults)
  HOLD_AFTER_MS: ms(2_000),
  HEDGE_MIN_MS: ms(700),
  HEDGE_MAX_MS: ms(1_200),
  HEDGE_BUDGET_PERCENT: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected a whole percentage like 10, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .refine((p) => p <= 100, { error: 'expected a percentage from 0 (no hedging) to 100' })
    .optional()
    .transform((v) => v ?? 20),
  OPENROUTER_SERVER_FALLBACK: z
    .enum(['true', 'false', '1', '0'], { error: (i) => `expected true or false, got ${JSON.stringify(i.input)}` })
    .optional()
    .transform((v) => v === 'true' || v === '1'),
  HOLD_MESSAGE: text('Hang on a sec.'),
  APOLOGY_MESSAGE: text("Sorry, I can't answer that right now."),
  // Voice pipeline (production worker only)
  AGENT_INSTRUCTIONS: text('You are a helpful voice assistant. Answer briefly, in plain spoken sentences.'),
  STT_BASE_URL: url('https://api.openai.com/v1'),
  STT_MODEL: text('whisper-1'),
  STT_API_KEY: optionalText,
  TTS_BASE_URL: url('https://api.openai.com/v1'),
  TTS_MODEL: text('tts-1'),
  TTS_VOICE: text('alloy'),
  TTS_API_KEY: optionalText,
  LIVEKIT_URL: optionalText,
  LIVEKIT_API_KEY: optionalText,
  LIVEKIT_API_SECRET: optionalText,
  // Rehearsal mode only: a deterministic demo tool offered to the model, so scenarios can rehearse tool turns.
  REHEARSAL_TOOL: z
    .enum(['none', 'order-lookup'], { error: (i) => `expected none or order-lookup, got ${JSON.stringify(i.input)}` })
    .optional()
    .transform((v) => v ?? 'none'),
  // A fleet's shared cooldowns (redis:// or rediss://). Not echoed when wrong: the URL may carry a password.
  REDIS_URL: z
    .string()
    .trim()
    .refine((v) => /^rediss?:\/\/[^\s]+$/.test(v) && URL.canParse(v), { error: 'expected a redis:// or rediss:// URL like redis://127.0.0.1:6379 (the value is not shown: it may hold a password)' })
    .optional(),
  // With REDIS_URL: how long a turn's decision waits for Redis before going on without it (default 50 ms). A
  // rehearsal on a crowded machine may give it more, so a starved CPU does not pass for a slow Redis.
  REDIS_DEADLINE_MS: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected a whole number of milliseconds like 50, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .refine((v) => v >= 1 && v <= 10_000, { error: 'expected 1 to 10000 ms' })
    .optional(),
  // With REDIS_URL: requests a minute to `:free` models the fleet sends on its key (OpenRouter allows 20); 0: no budget.
  OPENROUTER_FREE_PER_MINUTE: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected a whole number of requests like 20, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .optional()
    .transform((v) => v ?? 20),
  // With REDIS_URL: requests a day to `:free` models (OpenRouter: 50, or 1000 once 10 credits were bought); 0: no daily
  // budget. Unset: learned from the key's account (`GET /key`) at start, or from a daily 429's X-RateLimit-Limit.
  OPENROUTER_FREE_PER_DAY: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected a whole number of requests like 50 or 1000, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .optional(),
  // Operations
  HTTP_PORT: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected a port number, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .refine((p) => p <= 65535, { error: 'expected a port number up to 65535' })
    .optional(),
  HTTP_HOST: text('127.0.0.1'),
  // The LiveKit worker's own health server (GET /, GET /worker): LiveKit's default is 8081 with `npm start` (a free
  // port with `npm run dev`); a second worker on one machine needs another. It binds HTTP_HOST.
  WORKER_PORT: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: (i) => `expected a port number, got ${JSON.stringify(i.input)}` })
    .transform(Number)
    .refine((p) => p >= 1 && p <= 65535, { error: 'expected a port number from 1 to 65535' })
    .optional(),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
      error: (i) => `expected one of trace, debug, info, warn, error, fatal, silent, got ${JSON.stringify(i.input)}`,
    })
    .optional()
    .transform((v) => v ?? 'info'),
});

/** Every variable the agent reads. The compose files may set only these (a test checks). */
export const CONFIG_ENV_VARS = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

export type Env = z.output<typeof envSchema>;

export interface Deadlines {
  /** Request start -> response headers. */
  headersMs: number;
  /** Request start -> first content token (keep-alive comments do not count). */
  firstTokenMs: number;
  /** Longest gap between two content tokens. */
  idleMs: number;
}

export interface PolicyConfig {
  retryWindowMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  rateLimitCooldownMs: number;
  notFoundCooldownMs: number;
  unavailableCooldownMs: number;
  timeoutCooldownMs: number;
  accountCooldownMs: number;
  /** Cap of a guessed cooldown that doubled with each failure in a row. */
  cooldownMaxMs: number;
  /** No first token this long after the user's turn: the hold, once per episode. */
  holdAfterMs: number;
  /** A hedge starts after the running backend's observed p95 ttft, clamped to [min, max]; max with no samples. */
  hedgeMinMs: number;
  hedgeMaxMs: number;
  /** Hedges allowed, as a percentage of first-hand requests (0: never hedge). */
  hedgeBudgetPercent: number;
}

export interface Config {
  openrouter: {
    apiKey: string | undefined;
    baseURL: string;
    models: string[];
    appUrl: string | undefined;
    appName: string;
    deadlines: Deadlines;
    /** Each OpenRouter request also carries the next two models of the chain in `models[]` (OpenRouter's server-side fallback). */
    serverFallback: boolean;
  };
  local: { baseURL: string; model: string; deadlines: Deadlines };
  /** What every request asks for (`LLM_MAX_TOKENS`, `LLM_TEMPERATURE`). */
  generation: { maxTokens: number; temperature: number };
  policy: PolicyConfig;
  holdMessage: string;
  apologyMessage: string;
  voice: {
    instructions: string;
    stt: { baseURL: string; model: string; apiKey: string | undefined };
    tts: { baseURL: string; model: string; voice: string; apiKey: string | undefined };
  };
  /** The rehearsal agent's demo tool (`REHEARSAL_TOOL`); production offers no tool of ours. */
  rehearsalTool: Env['REHEARSAL_TOOL'];
  /** `REDIS_URL`: where a fleet shares its cooldowns; undefined for in-process cooldowns only. */
  redis: { url: string | undefined; freePerMinute: number; freePerDay: number | undefined; deadlineMs: number | undefined };
  http: { port: number | undefined; host: string };
  /** The LiveKit worker's health server port (undefined: LiveKit's default); it binds `http.host`. */
  workerPort: number | undefined;
  logLevel: Env['LOG_LEVEL'];
  /** Plain-words warnings to log at start (e.g. no API key). */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from `env`. Throws `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `NAME=` in a .env file or compose file means "not set": defaults apply.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const result = envSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0] ?? '?')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const e = result.data;
  const crossProblems = [
    ...(e.HEDGE_MIN_MS > e.HEDGE_MAX_MS ? [`HEDGE_MIN_MS: ${e.HEDGE_MIN_MS} is above HEDGE_MAX_MS (${e.HEDGE_MAX_MS})`] : []),
    ...(e.HOLD_AFTER_MS === 0 ? ['HOLD_AFTER_MS: 0 would put the hold before every answer; expected a delay like 2000'] : []),
  ];
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  const warnings: string[] = [];
  if (!e.OPENROUTER_API_KEY) {
    warnings.push('OPENROUTER_API_KEY is not set: OpenRouter is skipped and the agent answers from the local model alone');
    if (e.REDIS_URL) warnings.push('REDIS_URL is set but OPENROUTER_API_KEY is not: there are no OpenRouter cooldowns to share, Redis is not used');
  }
  return {
    openrouter: {
      apiKey: e.OPENROUTER_API_KEY,
      baseURL: e.OPENROUTER_BASE_URL,
      models: e.LLM_MODEL,
      appUrl: e.OPENROUTER_APP_URL,
      appName: e.OPENROUTER_APP_NAME,
      deadlines: {
        headersMs: e.OPENROUTER_HEADERS_TIMEOUT_MS,
        firstTokenMs: e.OPENROUTER_FIRST_TOKEN_TIMEOUT_MS,
        idleMs: e.OPENROUTER_IDLE_TIMEOUT_MS,
      },
      serverFallback: e.OPENROUTER_SERVER_FALLBACK,
    },
    local: {
      baseURL: e.LOCAL_LLM_BASE_URL,
      model: e.LOCAL_LLM_MODEL,
      deadlines: {
        headersMs: e.LOCAL_HEADERS_TIMEOUT_MS,
        firstTokenMs: e.LOCAL_FIRST_TOKEN_TIMEOUT_MS,
        idleMs: e.LOCAL_IDLE_TIMEOUT_MS,
      },
    },
    generation: { maxTokens: e.LLM_MAX_TOKENS, temperature: e.LLM_TEMPERATURE },
    policy: {
      retryWindowMs: e.RETRY_WINDOW_MS,
      backoffInitialMs: e.BACKOFF_INITIAL_MS,
      backoffMaxMs: e.BACKOFF_MAX_MS,
      rateLimitCooldownMs: e.RATE_LIMIT_COOLDOWN_MS,
      notFoundCooldownMs: e.NOT_FOUND_COOLDOWN_MS,
      unavailableCooldownMs: e.UNAVAILABLE_COOLDOWN_MS,
      timeoutCooldownMs: e.TIMEOUT_COOLDOWN_MS,
      accountCooldownMs: e.ACCOUNT_COOLDOWN_MS,
      cooldownMaxMs: e.COOLDOWN_MAX_MS,
      holdAfterMs: e.HOLD_AFTER_MS,
      hedgeMinMs: e.HEDGE_MIN_MS,
      hedgeMaxMs: e.HEDGE_MAX_MS,
      hedgeBudgetPercent: e.HEDGE_BUDGET_PERCENT,
    },
    holdMessage: e.HOLD_MESSAGE,
    apologyMessage: e.APOLOGY_MESSAGE,
    voice: {
      instructions: e.AGENT_INSTRUCTIONS,
      stt: { baseURL: e.STT_BASE_URL, model: e.STT_MODEL, apiKey: e.STT_API_KEY },
      tts: { baseURL: e.TTS_BASE_URL, model: e.TTS_MODEL, voice: e.TTS_VOICE, apiKey: e.TTS_API_KEY },
    },
    rehearsalTool: e.REHEARSAL_TOOL,
    redis: { url: e.REDIS_URL, freePerMinute: e.OPENROUTER_FREE_PER_MINUTE, freePerDay: e.OPENROUTER_FREE_PER_DAY, deadlineMs: e.REDIS_DEADLINE_MS },
    http: { port: e.HTTP_PORT, host: e.HTTP_HOST },
    workerPort: e.WORKER_PORT,
    logLevel: e.LOG_LEVEL,
    warnings,
  };
}
