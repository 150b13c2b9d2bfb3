/**
 * The scenario schema: the one contract between the fake OpenRouter (reads `seed`, `fake`), the agent's
 * rehearsal (reads `agent`) and the runner (reads `user`, `expect`). Defaults are applied here, once.
 * `scenarios/scenario.schema.json` is generated from this module (`npm run schema`), so editors complete files.
 *
 * Durations are strings with a unit and parse to milliseconds (`...Ms` fields after parsing).
 */
import { z } from 'zod';
import { describeValue, parseDuration } from '../duration.js';
import { responseHeaders } from './headers.js';

// ---------------------------------------------------------------------------------------------------------
// Building blocks

/** A duration string ("250ms", "8s", "1m") parsed to milliseconds. */
export const duration = z
  .custom<string>((value) => typeof value === 'string' && parseDuration(value) !== undefined, {
    error: (issue) => `expected a duration like "2s", got ${describeValue(issue.input)}`,
  })
  .transform((value) => parseDuration(value) as number)
  .meta({ type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m)$', description: 'A duration with a unit: 250ms, 8s, 1m' });

/** A model id or a glob over model ids (`*` any run of characters, `?` one character). */
export const modelPattern = z.string().min(1, { error: 'expected a model id or glob, got an empty string' });

/** Who spoke an utterance, as the caller would attribute it. */
export const SOURCE_PATTERN = /^(hold|apology|local|openrouter:.+)$/;
export const source = z.string().regex(SOURCE_PATTERN, {
  error: (issue) => `expected hold, apology, local or openrouter:<model id>, got ${describeValue(issue.input)}`,
});
export type Source = 'hold' | 'apology' | 'local' | `openrouter:${string}`;

// ---------------------------------------------------------------------------------------------------------
// OpenRouter error presets: the scenario-facing names. Their exact bodies and headers live in the fake.

export const ERROR_PRESETS = [
  'rate-limit-per-minute',
  'rate-limit-per-day',
  'upstream-rate-limit',
  'no-endpoints',
  'insufficient-credits',
  'invalid-key',
  'moderation',
  'timeout',
  'provider-down',
  'no-provider',
  'bad-request',
] as const;
export type ErrorPreset = (typeof ERROR_PRESETS)[number];
const errorPreset = z.enum(ERROR_PRESETS, {
  error: (issue) => `expected one of ${ERROR_PRESETS.join(', ')}, got ${describeValue(issue.input)}`,
});

// ---------------------------------------------------------------------------------------------------------
// Faults: what a rule does. Each kind is one object key in YAML (`then: { midStream: {...} }`), or a bare word
// for kinds without settings (`then: hang`). A shaped reply is written with its own fields (`then: { ttft: 9s }`).

const afterTokens = z.number().int().min(0);
const retryAfter = duration.optional();

/**
 * One scripted tool call: the function's name and its arguments (an object, sent as its JSON text, or the text
 * itself, sent as is: a model may send arguments that are not valid JSON, and a rehearsal may want that).
 */
export const toolCall = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: (i) => `expected a function name like lookup_order, got ${describeValue(i.input)}` }),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).default({}),
  })
  .transform(({ name, arguments: args }) => ({ name, arguments: typeof args === 'string' ? args : JSON.stringify(args) }));
export type ToolCall = z.output<typeof toolCall>;
/** Tool calls a reply (or a fault that streams part of one) makes, in order; they follow the reply's text. */
const toolCalls = z.array(toolCall).min(1, { error: 'expected at least one tool call' }).optional();

/** OpenRouter's string error codes (its error docs' table): invalid_prompt ~400, rate_limit_exceeded ~429, server_error 500+. */
export const MID_STREAM_CODES = ['server_error', 'rate_limit_exceeded', 'invalid_prompt'] as const;
export type MidStreamCode = (typeof MID_STREAM_CODES)[number];

/** The `native_finish_reason`s of a stream that ended in a failed finish with no error event (faults/failed-finish.ts). */
export const FAILED_FINISH_NATIVE = ['error', 'network_error'] as const;
export type FailedFinishNative = (typeof FAILED_FINISH_NATIVE)[number];

/**
 * One schema per fault kind, keyed by the kind. Adding a kind: one entry here, its flat form in `Fault` and
 * `toFault` below, one module in the fake (the compiler points at each).
 */
export const FAULT_SCHEMAS = {
  error: z.strictObject({ kind: z.literal('error'), error: errorPreset, retryAfter }),
  status: z.strictObject({
    kind: z.literal('status'),
    status: z.number().int().min(400).max(599),
    message: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    headers: responseHeaders.optional(),
    retryAfter,
  }),
  hang: z.strictObject({ kind: z.literal('hang'), hang: z.strictObject({}).optional() }),
  stall: z.strictObject({
    kind: z.literal('stall'),
    stall: z.strictObject({ every: duration.optional() }).optional(),
  }),
  reset: z.strictObject({ kind: z.literal('reset'), reset: z.strictObject({}).optional() }),
  disconnect: z.strictObject({
    kind: z.literal('disconnect'),
    /** `text`, `ttft`, `tokensPerSecond`: the reply being cut, over `fake.reply`'s (a recording replays its own). */
    disconnect: z.strictObject({
      afterTokens,
      toolCalls,
      text: z.string().optional(),
      ttft: duration.optional(),
      tokensPerSecond: z.number().positive().optional(),
    }),
  }),
  midStream: z.strictObject({
    kind: z.literal('midStream'),
    midStream: z.strictObject({
      afterTokens,
      error: errorPreset,
      toolCalls,
      /** The error event's `code` instead of the preset's status: a number, or one of OpenRouter's string codes. */
      code: z.union([z.number().int().min(100).max(599), z.enum(MID_STREAM_CODES)]).optional(),
      message: z.string().optional(),
      /** `metadata.error_type` (e.g. provider_unavailable, rate_limit_exceeded). */
      errorType: z.string().min(1).optional(),
      /** `metadata.limit_source` (e.g. provider, openrouter): who set the limit a rate-limit error reports. */
      limitSource: z.string().min(1).optional(),
      /** The first token's time for this stream, over `fake.reply.ttft`. */
      ttft: duration.optional(),
      /** The text and pace of what is streamed before the error, over `fake.reply`'s. */
      text: z.string().optional(),
      tokensPerSecond: z.number().positive().optional(),
      /** The error's `metadata` instead of the preset's (errorType and limitSource still add to it). */
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
  malformed: z.strictObject({ kind: z.literal('malformed'), malformed: z.strictObject({ afterTokens }) }),
  failedFinish: z.strictObject({
    kind: z.literal('failedFinish'),
    failedFinish: z.strictObject({
      afterTokens,
      /**
       * How the finish says it: `error` (default) is `finish_reason: "error"`; `network_error` is `finish_reason:
       * "stop"` with the cause only in `native_finish_reason` (both without an error event: see the fault's module).
       */
      native: z.enum(FAILED_FINISH_NATIVE).optional(),
      /** The text and pace of what is streamed before the finish, over `fake.reply`'s (a recording replays its own). */
      text: z.string().optional(),
      ttft: duration.optional(),
      tokensPerSecond: z.number().positive().optional(),
    }),
  }),
  empty: z.strictObject({ kind: z.literal('empty'), empty: z.strictObject({}).optional() }),
  reply: z.strictObject({
    kind: z.literal('reply'),
    text: z.string().optional(),
    ttft: duration.optional(),
    tokensPerSecond: z.number().positive().optional(),
    toolCalls,
  }),
} as const;
export type FaultKind = keyof typeof FAULT_SCHEMAS;
export const FAULT_KINDS = Object.keys(FAULT_SCHEMAS) as FaultKind[];
/** Kinds that may be written as a bare word (`then: hang`). */
const BARE_KINDS = ['hang', 'stall', 'reset', 'empty'] as const;
const REPLY_KEYS = ['text', 'ttft', 'tokensPerSecond', 'toolCalls'];

/** Which kind a raw `then` value names, or a reason it names none (or several). */
function kindOf(raw: unknown): { kind: FaultKind } | { problem: string } {
  if (typeof raw === 'string') {
    if ((BARE_KINDS as readonly string[]).includes(raw)) return { kind: raw as FaultKind };
    return { problem: `expected one of ${BARE_KINDS.join(', ')} or an object naming a fault, got ${describeValue(raw)}` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problem: `expected a fault (e.g. "hang" or { error: rate-limit-per-minute }), got ${describeValue(raw)}` };
  }
  const keys = Object.keys(raw);
  const named = FAULT_KINDS.filter((k) => k !== 'reply' && keys.includes(k));
  const replyLike = keys.some((k) => REPLY_KEYS.includes(k));
  if (named.length === 1 && !replyLike) return { kind: named[0] as FaultKind };
  if (named.length === 0 && replyLike) return { kind: 'reply' };
  if (named.length === 0) {
    const kinds = FAULT_KINDS.filter((k) => k !== 'reply').join(', ');
    return { problem: `expected one of ${kinds} or a shaped reply (text, ttft, tokensPerSecond, toolCalls), got keys ${keys.join(', ') || '(none)'}` };
  }
  return { problem: `expected exactly one fault, got ${[...named, ...(replyLike ? ['reply fields'] : [])].join(' and ')}` };
}

/** A `then` as written, checked and tagged with its kind (the JSON Schema generator swaps in `faultJsonForms` for it). */
export const faultInput = z.preprocess((raw, ctx) => {
  const found = kindOf(raw);
  if ('problem' in found) {
    ctx.addIssue({ code: 'custom', message: found.problem, input: raw });
    return z.NEVER;
  }
  return typeof raw === 'string' ? { kind: found.kind } : { ...(raw as object), kind: found.kind };
}, z.discriminatedUnion('kind', Object.values(FAULT_SCHEMAS) as unknown as [z.ZodObject, ...z.ZodObject[]]));

/** What a fault that streams part of a reply may say of that reply, over `fake.reply`'s. */
export interface StreamedPart {
  text?: string;
  ttftMs?: number;
  tokensPerSecond?: number;
}

/** A fault after parsing: one flat object per kind, durations in ms. */
export type Fault =
  | { kind: 'error'; error: ErrorPreset; retryAfterMs?: number }
  | {
      kind: 'status';
      status: number;
      message?: string;
      metadata?: Record<string, unknown>;
      headers?: Record<string, string>;
      retryAfterMs?: number;
    }
  | { kind: 'hang' }
  | { kind: 'stall'; everyMs?: number }
  | { kind: 'reset' }
  | ({ kind: 'disconnect'; afterTokens: number; toolCalls?: ToolCall[] } & StreamedPart)
  | ({
      kind: 'midStream';
      afterTokens: number;
      error: ErrorPreset;
      toolCalls?: ToolCall[];
      code?: number | MidStreamCode;
      message?: string;
      errorType?: string;
      limitSource?: string;
      metadata?: Record<string, unknown>;
    } & StreamedPart)
  | { kind: 'malformed'; afterTokens: number }
  | ({ kind: 'failedFinish'; afterTokens: number; native: FailedFinishNative } & StreamedPart)
  | { kind: 'empty' }
  | { kind: 'reply'; text?: string; ttftMs?: number; tokensPerSecond?: number; toolCalls?: ToolCall[] };

/** Flattens the YAML-shaped fault into `Fault`. Pure; the schema already checked every field. */
function toFault(parsed: Record<string, unknown>): Fault {
  const p = parsed as Record<string, Record<string, unknown> | undefined> & Record<string, unknown>;
  switch (parsed.kind as FaultKind) {
    case 'error':
      return { kind: 'error', error: p.error as unknown as ErrorPreset, ...ms('retryAfterMs', p.retryAfter) };
    case 'status':
      return {
        kind: 'status',
        status: p.status as unknown as number,
        ...(p.message !== undefined && { message: p.message as unknown as string }),
        ...(p.metadata !== undefined && { metadata: p.metadata }),
        ...(p.headers !== undefined && { headers: p.headers as Record<string, string> }),
        ...ms('retryAfterMs', p.retryAfter),
      };
    case 'stall':
      return { kind: 'stall', ...ms('everyMs', p.stall?.every) };
    case 'disconnect':
      return { kind: 'disconnect', afterTokens: p.disconnect?.afterTokens as number, ...calls(p.disconnect?.toolCalls), ...streamedPart(p.disconnect ?? {}) };
    case 'midStream': {
      const m = p.midStream ?? {};
      return {
        kind: 'midStream',
        afterTokens: m.afterTokens as number,
        error: m.error as ErrorPreset,
        ...calls(m.toolCalls),
        ...(m.code !== undefined && { code: m.code as number | MidStreamCode }),
        ...(m.message !== undefined && { message: m.message as string }),
        ...(m.errorType !== undefined && { errorType: m.errorType as string }),
        ...(m.limitSource !== undefined && { limitSource: m.limitSource as string }),
        ...(m.metadata !== undefined && { metadata: m.metadata as Record<string, unknown> }),
        ...streamedPart(m),
      };
    }
    case 'malformed':
      return { kind: 'malformed', afterTokens: p.malformed?.afterTokens as number };
    case 'failedFinish':
      return {
        kind: 'failedFinish',
        afterTokens: p.failedFinish?.afterTokens as number,
        native: (p.failedFinish?.native as FailedFinishNative | undefined) ?? 'error',
        ...streamedPart(p.failedFinish ?? {}),
      };
    case 'reply':
      return {
        kind: 'reply',
        ...(p.text !== undefined && { text: p.text as unknown as string }),
        ...ms('ttftMs', p.ttft),
        ...(p.tokensPerSecond !== undefined && { tokensPerSecond: p.tokensPerSecond as unknown as number }),
        ...calls(p.toolCalls),
      };
    case 'hang':
    case 'reset':
    case 'empty':
      return { kind: parsed.kind as 'hang' | 'reset' | 'empty' };
  }
}

function streamedPart(p: Record<string, unknown>): StreamedPart {
  return {
    ...(p.text !== undefined && { text: p.text as string }),
    ...ms('ttftMs', p.ttft),
    ...(p.tokensPerSecond !== undefined && { tokensPerSecond: p.tokensPerSecond as number }),
  };
}

function calls(value: unknown): { toolCalls?: ToolCall[] } {
  return Array.isArray(value) ? { toolCalls: value as ToolCall[] } : {};
}

function ms<K extends string>(key: K, value: unknown): Partial<Record<K, number>> {
  return typeof value === 'number' ? ({ [key]: value } as Record<K, number>) : {};
}

export const fault = faultInput.transform((parsed) => toFault(parsed as Record<string, unknown>));

// ---------------------------------------------------------------------------------------------------------
// Rules: when (matchers) + then (one fault) + how often (nth, window, probability), as in mockttp.

const NTH_TEXT = /^[1-9]\d*\+$/;
/** Which requests (1-based, counted per model since reset) a rule applies to. */
export type Nth = { kind: 'only'; values: number[] } | { kind: 'from'; first: number };
const nthMessage = (issue: { input?: unknown }) =>
  `expected a request number like 1, a list like [1, 3] or "2+", got ${describeValue(issue.input)}`;
const nth = z
  .union([
    z.number({ error: nthMessage }).int({ error: nthMessage }).min(1, { error: nthMessage }),
    z.array(z.number().int().min(1, { error: nthMessage })).min(1, { error: nthMessage }),
    z.string().regex(NTH_TEXT, { error: nthMessage }),
  ], { error: nthMessage })
  .transform((value): Nth => {
    if (typeof value === 'number') return { kind: 'only', values: [value] };
    if (Array.isArray(value)) return { kind: 'only', values: value };
    return { kind: 'from', first: Number(value.slice(0, -1)) };
  });

export const AFTER_KINDS = ['user', 'toolResult'] as const;
export type After = (typeof AFTER_KINDS)[number];

export const when = z
  .strictObject({
    model: modelPattern.default('*'),
    from: duration.optional(),
    until: duration.optional(),
    nth: nth.optional(),
    probability: z.number().min(0).max(1).optional(),
    stream: z.boolean().optional(),
    /**
     * What the request answers: `user` (its last message is the caller's) or `toolResult` (the follow-up that
     * carries a tool's result), so a failure can be placed at any step of a tool turn.
     */
    after: z.enum(AFTER_KINDS, { error: (i) => `expected user or toolResult, got ${describeValue(i.input)}` }).optional(),
  })
  .refine((w) => w.from === undefined || w.until === undefined || w.from < w.until, {
    error: 'until must be later than from',
    path: ['until'],
  })
  .transform(({ from, until, ...rest }) => ({ ...rest, ...ms('fromMs', from), ...ms('untilMs', until) }));
export type When = z.output<typeof when>;

export const rule = z.strictObject({ when: when.prefault({}), then: fault });
export type Rule = z.output<typeof rule>;

export const replyShape = z
  .strictObject({
    text: z.string().optional(),
    ttft: duration.default(200),
    tokensPerSecond: z.number().positive().default(40),
  })
  .transform(({ ttft, ...rest }) => ({ ...rest, ttftMs: ttft }));

// ---------------------------------------------------------------------------------------------------------
// The scenario

/** One model's capabilities. Everything the fake serves supports tools unless an entry says otherwise. */
export const catalogEntry = z.strictObject({
  model: modelPattern,
  /** false: a request offering `tools` gets OpenRouter's 404 "No endpoints found that support tool use". */
  tools: z.boolean().default(true),
  /** The model's context window in tokens (`/models` `context_length`); a larger prompt gets OpenRouter's 400. */
  contextLength: z.number().int().min(1).default(131_072),
  /**
   * The providers serving it, in OpenRouter's default order, for `provider.only/order/ignore/allow_fallbacks`
   * (absent: one, fixed by the model id). The first one a request's preferences allow answers.
   */
  providers: z.array(z.string().min(1)).min(1).optional(),
  /** true: the model reasons; a request asking for `reasoning` gets reasoning deltas and reasoning tokens. */
  reasoning: z.boolean().default(false),
});
export type CatalogEntry = z.output<typeof catalogEntry>;

/**
 * The account behind every API key the fake sees (each key is an account of its own: the fake cannot know which
 * keys share one). OpenRouter limits `:free` model requests per account: 20 a minute, and 50 a day, or 1000 a day
 * once the account has bought at least 10 credits; failed attempts count. The default is an account that bought
 * 10 credits, the usual way to use free models in production.
 */
export const accountSection = z.strictObject({
  /** Credits bought (all time), USD: fewer than 10 means 50 `:free` requests a day, 0 means `is_free_tier`. */
  credits: z
    .number()
    .min(0, { error: (i) => `expected credits bought in USD, 0 or more, got ${describeValue(i.input)}` })
    .default(10)
    .meta({ description: 'Credits bought (all time), USD. Under 10: 50 :free requests a day (else 1000); 0: is_free_tier. Default 10.' }),
  /**
   * false: the fake counts `:free` requests (`/key` reports them) but never refuses one for the quota, so only
   * rules refuse (an account exempt from the free-model limits; scenarios whose storm is the point).
   */
  quota: z
    .boolean()
    .default(true)
    .meta({ description: 'false: :free requests are counted but never refused for the quota (only rules refuse). Default true.' }),
});
export type AccountSettings = z.output<typeof accountSection>;

export const fakeSection = z.strictObject({
  /** The default answer for requests no rule catches. `text` absent: a seeded generated sentence. */
  reply: replyShape.prefault({}),
  /** Models served besides the agent's chain and those named by rules (for pointing another agent here). */
  models: z.array(z.string().min(1)).default([]),
  /** What models can do, as `/models` advertises it: the first entry whose `model` glob matches a model applies. */
  catalog: z.array(catalogEntry).default([]),
  /** Interval of `: OPENROUTER PROCESSING` comments while a reply waits for its first token, and in stalls. */
  keepAliveEvery: duration.default(1000),
  /**
   * Where scenario time 0 falls on OpenRouter's calendar, as an ISO 8601 instant (`2026-01-15T23:59:30Z`): rate limits
   * reset at its minute and midnight boundaries. Pin it and a daily limit resets at the same scenario second on
   * every run (or mid-call, on purpose); leave it out and the calendar is the wall clock's.
   */
  startsAt: z.iso
    .datetime({ offset: true, error: 'expected an ISO 8601 instant like "2026-01-15T12:00:00Z"' })
    .meta({ description: "Scenario time 0 on OpenRouter's calendar (rate-limit resets), e.g. 2026-01-15T23:59:30Z. Default: the wall clock." })
    .transform((text) => Date.parse(text))
    .optional(),
  /** The account's credits and whether its free-model quota refuses requests (see `accountSection`). */
  account: accountSection.prefault({}).meta({ description: "The account behind each API key: OpenRouter's free-model quota (20/min; 50/day, or 1000 with 10 credits bought)." }),
  rules: z.array(rule).default([]),
}).transform(({ keepAliveEvery, startsAt, ...rest }) => ({ ...rest, keepAliveEveryMs: keepAliveEvery, startsAtEpochMs: startsAt }));

/**
 * `agent.redis`: the runner starts a real Redis (redis-server on a free loopback port, no persistence) and gives
 * every call its `REDIS_URL`, so the fleet shares cooldowns. `{ down: { at, for } }` also kills it at scenario
 * time `at` and starts it again, empty, on the same port `for` later (a Redis crash mid-call).
 */
export const redisDown = z
  .strictObject({ at: duration, for: duration })
  .refine((d) => d.for > 0, { error: 'expected a positive duration, got 0', path: ['for'] })
  .transform(({ at, for: forMs }) => ({ atMs: at, forMs }));
export const redisSetting = z
  .union([z.boolean(), z.strictObject({ down: redisDown.optional() })], {
    // An object is the outage form: its own field's problem says more (load.ts reports the deepest branch).
    error: (issue) => (isPlainObject(issue.input) ? undefined : `expected true, false or { down: { at: 10s, for: 5s } }, got ${describeValue(issue.input)}`),
  })
  .default(false)
  .transform((value): RedisSetting => (value === false ? false : value === true ? {} : value))
  .meta({ description: 'true: the runner starts a real Redis and gives every call REDIS_URL (shared cooldowns). { down: { at, for } }: also kill it at `at` and restart it `for` later.' });
function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
/** `false`: no Redis; otherwise a Redis for the rehearsal, and when it goes down (scenario ms). */
export type RedisSetting = false | { down?: { atMs: number; forMs: number } };

export const agentSection = z
  .strictObject({
    models: z.array(z.string().min(1, { error: 'expected a model id, got an empty string' })).min(1, {
      error: 'expected at least one model in the chain',
    }),
    local: z.boolean().default(false),
    env: z.record(z.string(), z.string()).default({}),
    redis: redisSetting,
  })
  // Two sources for one variable would leave the reader guessing which Redis the calls share.
  .refine((a) => a.redis === false || a.env.REDIS_URL === undefined, {
    error: 'agent.redis starts a Redis for the rehearsal and sets REDIS_URL itself: remove agent.env.REDIS_URL, or set redis: false',
    path: ['env', 'REDIS_URL'],
  });

/** At most this many calls in one rehearsal: each is a process of its own (bench:fleet runs 20). */
export const MAX_CALLS = 50;
export const callCount = z
  .number()
  .int()
  .min(1, { error: (i) => `expected at least 1 call, got ${describeValue(i.input)}` })
  .max(MAX_CALLS, { error: (i) => `expected at most ${MAX_CALLS} calls (each is an agent process), got ${describeValue(i.input)}` });

export const userTurn = z
  .strictObject({ at: duration, say: z.string().min(1) })
  .transform(({ at, say }) => ({ atMs: at, say }));

const window = z
  .tuple([duration, duration], { error: (issue) => `expected a window like [0s, 2s], got ${describeValue(issue.input)}` })
  .refine(([a, b]) => a <= b, { error: 'the window must not end before it starts' });

export const spokenExpectation = z
  .strictObject({ text: z.string(), source: source.optional(), start: window.optional() })
  .transform(({ start, ...rest }) => ({ ...rest, ...(start && { startMs: start }) }));

export const requestExpectation = z
  .strictObject({
    model: modelPattern,
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
    count: z.number().int().min(0).optional(),
  })
  .refine((r) => r.min !== undefined || r.max !== undefined || r.count !== undefined, {
    error: 'expected at least one of min, max, count',
  });

/** How many times the agent ran a tool (the rehearsal's demo tool, `tool` events) over the whole rehearsal. */
export const toolExpectation = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().min(0),
});

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a lowercase name like rate-limit-storm' }),
  description: z.string().min(1),
  seed: z.number().int().min(0).default(1),
  agent: agentSection,
  fake: fakeSection.prefault({}),
  /** How many calls play the `user` turns at once, each its own agent process on the same fake and key (a fleet). */
  calls: callCount.default(1).meta({ description: `Calls playing the user turns, each its own agent process on one fake and key (1..${MAX_CALLS}). Default 1.` }),
  /** Call k (from 0) starts k * stagger later: its turns, and its expected windows, are shifted by that much. */
  stagger: duration.default(0).meta({ description: 'Call k (from 0) plays its turns k * stagger later, e.g. 500ms. Default 0.' }),
  user: z.array(userTurn).default([]),
  expect: z
    .strictObject({
      spoken: z.array(spokenExpectation).default([]),
      requests: z.array(requestExpectation).default([]),
      tools: z.array(toolExpectation).default([]),
    })
    .prefault({}),
}).transform(({ stagger, ...rest }) => ({ ...rest, staggerMs: stagger }));

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type FakeSection = Scenario['fake'];
export type UserTurn = Scenario['user'][number];
export type SpokenExpectation = Scenario['expect']['spoken'][number];
export type RequestExpectation = Scenario['expect']['requests'][number];
export type ToolExpectation = Scenario['expect']['tools'][number];

/** The input forms of a `then`, for the generated JSON Schema (the runtime path goes through `faultInput`). */
export const faultJsonForms = z.union([
  z.enum(BARE_KINDS),
  ...Object.values(FAULT_SCHEMAS).map((s) => (s as z.ZodObject).omit({ kind: true })),
] as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
