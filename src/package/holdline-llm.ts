/**
 * `createHoldlineLLM`: holdline's chain as an `llm.LLM` for your own `AgentSession` or `voice.Agent`, with the
 * same events, JSON logs and Prometheus metrics as holdline's own agent. Options are checked once, every problem
 * listed at once (like the environment); what is not given comes from the same environment variables and
 * defaults as `.env.example` (OPENROUTER_API_KEY, OPENROUTER_BASE_URL, LOCAL_LLM_BASE_URL, the *_MS timers...).
 *
 * Inside a rehearsal (`holdline scenario --agent`), an LLM made here runs on the rehearsal's clock and publishes
 * on its timeline, so your agent needs no rehearsal-only code.
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ScaledClock, type Clock } from '../../contract/clock.js';
import { formatPath } from '../../contract/scenario/load.js';
import { ChainLLM } from '../chain/chain-llm.js';
import { createChain, sharedCooldownsFor } from '../chain/create.js';
import { SharedCooldowns } from '../chain/shared-cooldowns.js';
import { AgentEvents } from '../chain/events.js';
import { loadConfig, type Config, type Deadlines, type PolicyConfig } from '../config.js';
import { createLogger, logEvents, type Logger } from '../observability/log.js';
import { collectMetrics, collectSharedMetrics } from '../observability/metrics.js';
import { currentRehearsal } from './rehearsal-context.js';

export interface HoldlineLLMOptions {
  /** The OpenRouter chain, first choice first (like `LLM_MODEL`). */
  models: string[];
  /** OpenRouter access. Default: `OPENROUTER_API_KEY`, `OPENROUTER_BASE_URL` and the `OPENROUTER_*_TIMEOUT_MS` timers. */
  openrouter?: { apiKey?: string; baseURL?: string; appName?: string; appUrl?: string; deadlines?: Partial<Deadlines> };
  /** The local llama.cpp server, always the last resort. Default: `LOCAL_LLM_BASE_URL`, `LOCAL_LLM_MODEL`. */
  local?: { baseURL?: string; model?: string; deadlines?: Partial<Deadlines> };
  /** Said once per turn when every backend failed a pass, or no answer started `policy.holdAfterMs` after the turn. Default "Hang on a sec.". */
  hold?: string;
  /** Said when the retry window is over. Default "Sorry, I can't answer that right now.". */
  apology?: string;
  /** Retry window, backoff, cooldowns, hold and hedge timing in ms, hedge budget in percent; each defaults to its variable (`.env.example`). */
  policy?: Partial<PolicyConfig>;
  /**
   * Cooldowns shared by every process on the same OpenRouter key: a `redis://` URL, or an ioredis client you own
   * (holdline never closes it). Default: `REDIS_URL`, else each process keeps its own. `aclose()` closes a client made here.
   */
  redis?: string | Redis;
  /** Where log lines go (pino). Default: JSON on stdout at `LOG_LEVEL`; `false` for none. */
  log?: Logger | false;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** An `llm.LLM` (holdline's chain) with its event stream and metrics registry. */
export interface HoldlineLLM extends ChainLLM {
  /** Every attempt, skip, policy step and turn (contract/events.ts); `subscribe` returns an unsubscribe function. */
  readonly events: AgentEvents;
  /** prom-client registry with holdline_* metrics: serve `await metrics.metrics()` on your /metrics. */
  readonly metrics: Registry;
}

const text = z.string().trim().min(1, { error: 'expected a non-empty string' });
const msValue = z.number().int().min(0, { error: 'expected whole milliseconds (0 or more)' });
const deadlines = z.strictObject({ headersMs: msValue.optional(), firstTokenMs: msValue.optional(), idleMs: msValue.optional() });
const POLICY_KEYS = [
  'retryWindowMs',
  'backoffInitialMs',
  'backoffMaxMs',
  'rateLimitCooldownMs',
  'notFoundCooldownMs',
  'unavailableCooldownMs',
  'timeoutCooldownMs',
  'accountCooldownMs',
  'cooldownMaxMs',
  'holdAfterMs',
  'hedgeMinMs',
  'hedgeMaxMs',
] as const;
const percent = z.number().int().min(0).max(100, { error: 'expected a whole percentage, 0 to 100' });

const optionsSchema = z.strictObject({
  models: z
    .array(text.refine((m) => !/\s/.test(m), { error: 'a model id has no whitespace' }))
    .min(1, { error: 'expected at least one OpenRouter model' })
    .refine((ms) => new Set(ms).size === ms.length, { error: 'the chain names a model twice' }),
  openrouter: z
    .strictObject({ apiKey: z.string().optional(), baseURL: z.url().optional(), appName: text.optional(), appUrl: z.string().optional(), deadlines: deadlines.optional() })
    .optional(),
  local: z.strictObject({ baseURL: z.url().optional(), model: text.optional(), deadlines: deadlines.optional() }).optional(),
  hold: text.optional(),
  apology: text.optional(),
  policy: z
    .strictObject({
      ...(Object.fromEntries(POLICY_KEYS.map((k) => [k, msValue.optional()])) as Record<(typeof POLICY_KEYS)[number], z.ZodOptional<typeof msValue>>),
      hedgeBudgetPercent: percent.optional(),
    })
    .optional(),
  redis: z
    .custom<string | Redis>(
      (v) =>
        (typeof v === 'string' && /^rediss?:\/\/\S+$/.test(v) && URL.canParse(v)) ||
        (typeof v === 'object' && v !== null && typeof (v as Redis).defineCommand === 'function' && typeof (v as Redis).pipeline === 'function'),
      { error: 'expected a redis:// or rediss:// URL or an ioredis client (the value is not shown: a URL may hold a password)' },
    )
    .optional(),
  log: z.union([z.literal(false), z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function', { error: 'expected a pino logger or false' })]).optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
});

export class HoldlineOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`createHoldlineLLM: invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'HoldlineOptionsError';
  }
}

export function createHoldlineLLM(options: HoldlineLLMOptions): HoldlineLLM {
  const problems: string[] = [];
  const parsed = optionsSchema.safeParse(options ?? {});
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${formatPath(i.path) || '(options)'}: ${i.message}`));
  if (problems.length > 0 || !parsed.success) throw new HoldlineOptionsError(problems);
  const o = parsed.data as HoldlineLLMOptions;

  const config = configFrom(o);
  // The same cross-checks as the environment's (config.ts), on the merged values: an option may break one.
  const { hedgeMinMs, hedgeMaxMs, holdAfterMs } = config.policy;
  const cross = [
    ...(hedgeMinMs > hedgeMaxMs ? [`policy.hedgeMinMs: ${hedgeMinMs} is above policy.hedgeMaxMs (${hedgeMaxMs})`] : []),
    ...(holdAfterMs === 0 ? ['policy.holdAfterMs: 0 would put the hold before every answer; expected a delay like 2000'] : []),
  ];
  if (cross.length > 0) throw new HoldlineOptionsError(cross);
  const rehearsal = currentRehearsal();
  const clock: Clock = rehearsal?.clock ?? new ScaledClock(1);
  const events = rehearsal?.events ?? new AgentEvents(clock);
  // A rehearsal logs its whole timeline itself (these events included): log nothing twice.
  const log = o.log === false || rehearsal ? undefined : (o.log ?? createLogger(config.logLevel));
  const shared = sharedFor(o, config, clock, log);
  const chain = createChain(config, clock, events, undefined, shared) as HoldlineLLM;
  if (log) {
    for (const warning of config.warnings) log.warn(warning);
    logEvents(events, log);
  }
  Object.defineProperty(chain, 'events', { value: events, enumerable: true });
  const metrics = collectMetrics(events).registry;
  if (shared) {
    collectSharedMetrics(metrics, shared);
    const aclose = chain.aclose.bind(chain);
    chain.aclose = async () => {
      await shared.close();
      await aclose();
    };
  }
  Object.defineProperty(chain, 'metrics', { value: metrics, enumerable: true });
  return chain;
}

/** The shared cooldowns: the `redis` option (a URL or a client), else `REDIS_URL`; none without an OpenRouter key. */
function sharedFor(o: HoldlineLLMOptions, config: Config, clock: Clock, log: Logger | undefined): SharedCooldowns | undefined {
  if (typeof o.redis !== 'object') return sharedCooldownsFor({ ...config, redis: { ...config.redis, url: o.redis ?? config.redis.url } }, clock, log);
  if (!config.openrouter.apiKey) return undefined;
  const { freePerMinute, freePerDay } = config.redis;
  return new SharedCooldowns({ redis: o.redis, apiKey: config.openrouter.apiKey, clock, freePerMinute, ...(freePerDay !== undefined && { freePerDay }), ...(log && { log }) });
}

/** The environment's configuration with the options on top. */
function configFrom(o: HoldlineLLMOptions): Config {
  const base = loadConfig({ ...(o.env ?? process.env), LLM_MODEL: o.models.join(',') });
  const or = o.openrouter ?? {};
  const local = o.local ?? {};
  return {
    ...base,
    openrouter: {
      ...base.openrouter,
      ...(or.apiKey !== undefined && { apiKey: or.apiKey }),
      ...(or.baseURL !== undefined && { baseURL: or.baseURL }),
      ...(or.appName !== undefined && { appName: or.appName }),
      ...(or.appUrl !== undefined && { appUrl: or.appUrl }),
      deadlines: { ...base.openrouter.deadlines, ...or.deadlines },
    },
    local: {
      ...base.local,
      ...(local.baseURL !== undefined && { baseURL: local.baseURL }),
      ...(local.model !== undefined && { model: local.model }),
      deadlines: { ...base.local.deadlines, ...local.deadlines },
    },
    policy: { ...base.policy, ...o.policy },
    holdMessage: o.hold ?? base.holdMessage,
    apologyMessage: o.apology ?? base.apologyMessage,
    warnings: (or.apiKey ?? base.openrouter.apiKey) ? [] : base.warnings,
  };
}

/** True for an LLM made by `createHoldlineLLM` (or holdline's own agent). */
export function isHoldlineLLM(value: unknown): value is ChainLLM {
  return value instanceof ChainLLM;
}
