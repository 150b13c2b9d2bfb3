/**
 * The outages of the failover benchmark. Each is a fake OpenRouter scenario over the same two-model chain plus
 * the local server (down, as in a deployment without it, except where the real llama-server is the point),
 * played as a conversation of several turns.
 */
import { parseScenario } from '../../contract/scenario/load.js';
import type { Scenario } from '../../contract/scenario/schema.js';

export const PRIMARY = 'meta-llama/llama-3.3-70b-instruct:free';
export const SECONDARY = 'qwen/qwen-2.5-72b-instruct:free';
export const ANSWER = 'Paris is the capital of France.';
/** The local server's model when the fake stands in for it (so it can flap on a seeded schedule). */
export const LOCAL_MODEL = 'local/llama-stand-in';

export interface BenchScenario {
  id: string;
  title: string;
  /** Why it is here and what it does, in a sentence. */
  description: string;
  /** `fake.rules` as YAML flow lines. */
  rules: string[];
  /**
   * down: nothing listens (connection refused); llama: the real llama-server with the tiny model; fake: the
   * fake stands in for it as `LOCAL_MODEL` (rules can make it flap).
   */
  local: 'down' | 'llama' | 'fake';
  /** Scenario ms when the outage ends, where it does: recovery is measured from here to the first answer. */
  endsAtMs?: number;
  /**
   * Scenario ms a turn may take before the caller gives up on it (counted as silence). Above the outage plus
   * holdline's 60 s retry window where the outage is long, so neither contender is cut off for being patient.
   */
  capMs: number;
  /** Turns in the conversation when not the run's default (flapping needs more to show its 50%). */
  turns?: number;
  /** More agent configuration for every contender (the rehearsal's demo tool, for a tool turn). */
  env?: Record<string, string>;
}

const DEFAULT_CAP_MS = 30_000;

export const BENCH_SCENARIOS: readonly BenchScenario[] = [
  {
    id: 'calm-spread',
    title: 'calm day, realistic ttft spread',
    // Not an outage: how often a healthy chain makes the caller hear the hold (false holds) or hedges.
    description: 'No faults. Every model answers with ttft 600 ms, 1.2 s one time in five, 2.5 s one time in twenty (seeded).',
    rules: [
      '{ when: { model: "*", probability: 0.05 }, then: { text: "Paris is the capital of France.", ttft: 2500ms, tokensPerSecond: 40 } }',
      '{ when: { model: "*", probability: 0.21 }, then: { text: "Paris is the capital of France.", ttft: 1200ms, tokensPerSecond: 40 } }',
      '{ when: { model: "*" }, then: { text: "Paris is the capital of France.", ttft: 600ms, tokensPerSecond: 40 } }',
    ],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
    turns: 20,
  },
  {
    id: 'primary-429',
    title: 'primary 429',
    // The upstream 429 (the model's provider is rate limited), not free-models-per-min: that one is the key's on
    // OpenRouter, refused for every :free model at once, so on the primary alone it is no outage OpenRouter has (and
    // holdline rightly cools both free models on it and holds, which made this row silent at the bench's 30 s cap).
    description: "The primary model answers every request with OpenRouter's upstream 429 (its provider rate limited, no Retry-After).",
    rules: [`{ when: { model: "${PRIMARY}" }, then: { error: upstream-rate-limit } }`],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
  },
  {
    id: 'all-429-5s',
    title: 'every OpenRouter model 429 for 5 s',
    // Retry-After 1s: the provider's own advice for a short burst; holdline honours it, FallbackAdapter ignores it.
    description: 'Both OpenRouter models are rate-limited (429, Retry-After 1 s) for the first 5 s, then answer.',
    rules: ['{ when: { model: "*", until: 5s }, then: { error: rate-limit-per-minute, retryAfter: 1s } }'],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
    endsAtMs: 5_000,
  },
  {
    id: 'storm-no-retry-after',
    title: 'every OpenRouter model upstream 429 for 6 s, no Retry-After',
    description: "Both OpenRouter models answer OpenRouter's upstream 429 (Provider returned error, no Retry-After, no reset) for the first 6 s, then answer.",
    rules: ['{ when: { model: "*", until: 6s }, then: { error: upstream-rate-limit } }'],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
    endsAtMs: 6_000,
  },
  {
    id: 'primary-stall',
    title: 'keep-alive stall on the primary',
    description: 'The primary answers 200, then only `: OPENROUTER PROCESSING` comments, never a token.',
    rules: [`{ when: { model: "${PRIMARY}" }, then: stall }`],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
  },
  {
    id: 'slow-primary',
    title: 'slow primary (ttft 4 s, healthy)',
    description: 'The primary answers every request, but its first token comes after 4 s.',
    rules: [`{ when: { model: "${PRIMARY}" }, then: { text: "${'Paris is the capital of France.'}", ttft: 4s, tokensPerSecond: 40 } }`],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
  },
  {
    id: 'primary-ttft-spread',
    title: 'primary ttft spread widely',
    description: 'The primary answers every request, its first token after 5 s (15%), 2.5 s (30%), 1.2 s (39%) or 400 ms (16%), seeded.',
    rules: [
      `{ when: { model: "${PRIMARY}", probability: 0.15 }, then: { text: "Paris is the capital of France.", ttft: 5s, tokensPerSecond: 40 } }`,
      `{ when: { model: "${PRIMARY}", probability: 0.35 }, then: { text: "Paris is the capital of France.", ttft: 2500ms, tokensPerSecond: 40 } }`,
      `{ when: { model: "${PRIMARY}", probability: 0.7 }, then: { text: "Paris is the capital of France.", ttft: 1200ms, tokensPerSecond: 40 } }`,
    ],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
    turns: 10,
  },
  {
    id: 'primary-503-flapping',
    title: 'primary 503 flapping at 50%',
    description: 'Each request to the primary fails with 503 with probability 0.5 (seeded: the same draws every run).',
    rules: [`{ when: { model: "${PRIMARY}", probability: 0.5 }, then: { error: no-provider } }`],
    local: 'down',
    capMs: DEFAULT_CAP_MS,
    turns: 10,
  },
  {
    id: 'chain-down-local-up',
    title: 'chain down, local up',
    description: 'Every OpenRouter model fails with 502 for the whole run; the real llama-server is up.',
    rules: ['{ when: { model: "*" }, then: { error: provider-down } }'],
    local: 'llama',
    capMs: DEFAULT_CAP_MS,
  },
  {
    id: 'outage-40s',
    title: 'everything down for 40 s',
    description: 'Every OpenRouter model fails with 503 for the first 40 s and the local server is down.',
    rules: ['{ when: { model: "*", until: 40s }, then: { error: no-provider } }'],
    local: 'down',
    capMs: 75_000,
    endsAtMs: 40_000,
  },
  {
    id: 'storm-30s-tool',
    title: '30 s storm with a tool turn in it',
    // The storm catches the tool turn between its two requests: the call was made (and must run once), and the
    // request carrying its result is what has to be retried until the storm is over.
    description:
      "The primary's first request calls lookup_order; from then on every OpenRouter model answers the upstream 429 (no Retry-After) for the first 30 s, the tool result's request included, then answers.",
    rules: [
      `{ when: { model: "${PRIMARY}", after: user, nth: 1 }, then: { toolCalls: [{ name: lookup_order, arguments: { order_id: "4417" } }] } }`,
      '{ when: { model: "*", until: 30s }, then: { error: upstream-rate-limit } }',
    ],
    local: 'down',
    capMs: 75_000,
    endsAtMs: 30_000,
    env: { REHEARSAL_TOOL: 'order-lookup' },
  },
  {
    id: 'local-flapping',
    title: 'chain down, local server flapping',
    description: 'Every OpenRouter model fails with 502 for the whole run; the local server (the fake standing in) resets the connection on half its requests (seeded).',
    rules: ['{ when: { model: "' + LOCAL_MODEL + '", probability: 0.5 }, then: reset }', '{ when: { model: "*/*:free" }, then: { error: provider-down } }'],
    local: 'fake',
    capMs: DEFAULT_CAP_MS,
    turns: 10,
  },
];

/** The scenario the fake plays for a bench scenario. */
export function fakeScenario(bench: BenchScenario, seed = 7): Scenario {
  return parseScenario(
    [
      `name: ${bench.id}`,
      `description: ${JSON.stringify(bench.description)}`,
      `seed: ${seed}`,
      `agent: { models: ["${PRIMARY}", "${SECONDARY}"] }`,
      'fake:',
      `  reply: { text: "${ANSWER}", ttft: 400ms, tokensPerSecond: 40 }`,
      '  rules:',
      ...bench.rules.map((rule) => `    - ${rule}`),
    ].join('\n'),
    `bench/failover/${bench.id}.yaml`,
  );
}
