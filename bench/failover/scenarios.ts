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

export interface BenchScenario {
  id: string;
  title: string;
  /** Why it is here and what it does, in a sentence. */
  description: string;
  /** `fake.rules` as YAML flow lines. */
  rules: string[];
  /** down: nothing listens (connection refused); llama: the real llama-server with the tiny model. */
  local: 'down' | 'llama';
  /**
   * Scenario ms a turn may take before the caller gives up on it (counted as silence). Above the outage plus
   * holdline's 60 s retry window where the outage is long, so neither contender is cut off for being patient.
   */
  capMs: number;
  /** Turns in the conversation when not the run's default (flapping needs more to show its 50%). */
  turns?: number;
}

const DEFAULT_CAP_MS = 30_000;

export const BENCH_SCENARIOS: readonly BenchScenario[] = [
  {
    id: 'primary-429',
    title: 'primary 429',
    description: "The primary model answers every request with OpenRouter's free-models-per-min 429.",
    rules: [`{ when: { model: "${PRIMARY}" }, then: { error: rate-limit-per-minute } }`],
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
