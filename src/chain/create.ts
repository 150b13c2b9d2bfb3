/** Builds the chain from configuration: the one place that knows how a backend is reached. */
import type { Clock } from '../../contract/clock.js';
import type { Config } from '../config.js';
import { httpAttemptRunner, type AttemptRunner } from './attempt.js';
import { backendsFrom } from './backends.js';
import { ChainLLM } from './chain-llm.js';
import type { AgentEvents } from './events.js';

export function createChain(config: Config, clock: Clock, events: AgentEvents, runAttempt?: AttemptRunner): ChainLLM {
  const openrouterHeaders: Record<string, string> = {
    'X-Title': config.openrouter.appName,
    ...(config.openrouter.appUrl && { 'HTTP-Referer': config.openrouter.appUrl }),
  };
  return new ChainLLM({
    backends: backendsFrom(config),
    policy: config.policy,
    holdMessage: config.holdMessage,
    apologyMessage: config.apologyMessage,
    clock,
    events,
    runAttempt:
      runAttempt ??
      httpAttemptRunner({
        // The local llama.cpp server takes any key; the SDK insists on one.
        apiKeyFor: (backend) => (backend.kind === 'openrouter' ? (config.openrouter.apiKey ?? '') : 'local'),
        headersFor: (backend) => (backend.kind === 'openrouter' ? openrouterHeaders : {}),
        generation: config.generation,
      }),
  });
}
