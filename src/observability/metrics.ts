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
  new Gauge({
    name: 'holdline_redis_up',
    help: '1 when the last call to the shared cooldowns store (Redis) answered, else 0',
    registers: [registry],
    collect() {
      this.set(shared.up ? 1 : 0);
    },
  });
}
