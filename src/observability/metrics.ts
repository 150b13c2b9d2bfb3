/**
 * Prometheus metrics from the agent's events: requests by backend, model and outcome; time to first token;
 * fallbacks; holds; apologies; turns by outcome. One registry per agent (not prom-client's global one), so
 * tests and several sessions in one process don't share counters.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentEvents } from '../chain/events.js';
import type { SharedCooldowns } from '../chain/shared-cooldowns.js';

export interface AgentMetrics {
  registry: Registry;
  stop: () => void;
}

export function collectMetrics(events: AgentEvents): AgentMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'holdline_llm_requests_total',
    help: 'LLM requests by backend, model and outcome (ok or the failure class)',
    labelNames: ['backend', 'model', 'outcome'] as const,
    registers: [registry],
  });
  const ttft = new Histogram({
    name: 'holdline_llm_ttft_seconds',
    help: 'Time from request to first content token, in scenario seconds',
    labelNames: ['backend', 'model'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'holdline_llm_fallbacks_total',
    help: 'Moves to the next backend after a failure or a cooldown skip',
    registers: [registry],
  });
  const holds = new Counter({ name: 'holdline_holds_total', help: 'Hold messages spoken', registers: [registry] });
  const apologies = new Counter({ name: 'holdline_apologies_total', help: 'Apologies spoken', registers: [registry] });
  // OpenRouter's `usage` per generation (the seeds' router asked for cost monitoring): tokens by kind, and USD.
  const tokens = new Counter({
    name: 'holdline_llm_tokens_total',
    help: "Tokens by model and kind (prompt, completion), from the responses' usage",
    labelNames: ['model', 'kind'] as const,
    registers: [registry],
  });
  const cost = new Counter({
    name: 'holdline_llm_cost_usd_total',
    help: "Cost in USD (OpenRouter credits) by model, from the responses' usage.cost",
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const turns = new Counter({
    name: 'holdline_turns_total',
    help: 'User turns by how they ended (answered, apology, cancelled)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const stop = events.subscribe((event) => {
    switch (event.type) {
      case 'attempt':
        requests.inc({ backend: event.backend, model: event.model, outcome: event.outcome });
        if (event.ttftMs !== undefined) ttft.observe({ backend: event.backend, model: event.model }, event.ttftMs / 1000);
        if (event.outcome !== 'ok' && event.outcome !== 'cancelled') fallbacks.inc();
        if (event.usage) {
          tokens.inc({ model: event.model, kind: 'prompt' }, event.usage.promptTokens);
          tokens.inc({ model: event.model, kind: 'completion' }, event.usage.completionTokens);
          if (event.usage.costUsd !== undefined) cost.inc({ model: event.model }, event.usage.costUsd);
        }
        return;
      case 'skip':
        fallbacks.inc();
        return;
      case 'policy':
        if (event.step === 'hold') holds.inc();
        if (event.step === 'apology') apologies.inc();
        return;
      case 'turn_end':
        turns.inc({ outcome: event.outcome });
        return;
      default:
        return;
    }
  });
  return { registry, stop };
}

/**
 * The shared store's health, in the same registry: failed Redis calls by operation and reason (timeout, error,
 * disconnected), and whether the last call answered. Read from the store when scraped.
 */
/**
 * Seconds: sub-millisecond steps up to the 2 ms target, then steps of a quarter to a half of the bound up to the 50 ms
 * deadline and past it (a loaded machine delays a booking's round trip): a p99 read from them is within 25 % of the
 * truth between 0.5 and 25 ms, where the fleet's tail lies, not "somewhere under 10 or 25 ms".
 */
export const REDIS_DECISION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.00175, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.0075, 0.01, 0.0125, 0.015, 0.02,
  0.025, 0.035, 0.05, 0.1, 0.25, 0.5, 1,
];

export function collectSharedMetrics(registry: Registry, shared: SharedCooldowns): void {
  new Counter({
    name: 'holdline_redis_failures_total',
    help: 'Redis calls of the shared cooldowns that failed or missed their deadline; the chain went on with its own state',
    labelNames: ['op', 'reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [label, count] of shared.failures) {
        const [op = '', reason = ''] = label.split(':');
        this.inc({ op, reason }, count);
      }
    },
  });
  // Wall ms a store reports on `event`, in seconds on fine buckets (the target is 2 ms). Wall time: network I/O, not scenario time.
  const wallTimes = (event: 'decision' | 'booking', name: string, help: string) => {
    const histogram = new Histogram({ name, help, buckets: REDIS_DECISION_BUCKETS, registers: [registry] });
    shared.on(event, (wallMs: number) => histogram.observe(wallMs / 1000));
  };
  wallTimes(
    'decision',
    'holdline_redis_decision_seconds',
    'Wall time one decision of a turn waited on Redis (the booking an attempt makes: a probe lease, a :free slot; the shared records come from the process mirror, kept by pub/sub)',
  );
  // The decisions that made a round trip, alone: most decisions read the mirror and wait for nothing, so the one above
  // says what a turn pays, and this one what a round trip costs on this machine.
  wallTimes('booking', 'holdline_redis_booking_seconds', 'Wall time of one booking round trip to Redis (a probe lease, a :free slot, or both in one script)');
  new Gauge({
    name: 'holdline_redis_up',
    help: '1 when the last call to the shared cooldowns store (Redis) answered, else 0',
    registers: [registry],
    // Across a worker's jobs (fleet.ts): up only when every job's Redis is up, not a count of them.
    aggregator: 'min',
    collect() {
      this.set(shared.up ? 1 : 0);
    },
  });
}
