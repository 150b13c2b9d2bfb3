/** Builds the chain from configuration: the one place that knows how a backend is reached. */
import type { Clock } from '../../contract/clock.js';
import type { Config } from '../config.js';
import { httpAttemptRunner, type AttemptRunner } from './attempt.js';
import { backendsFrom } from './backends.js';
import { ChainLLM } from './chain-llm.js';
import type { AgentEvents } from './events.js';
import { learnFreeDaily } from './free-quota.js';
import { SharedCooldowns } from './shared-cooldowns.js';
import type { Logger } from '../observability/log.js';

/** The fleet's shared cooldowns when `REDIS_URL` is set (and there is a key to share them on); else undefined. */
export function sharedCooldownsFor(config: Config, clock: Clock, log?: Logger): SharedCooldowns | undefined {
  if (!config.redis.url || !config.openrouter.apiKey) return undefined;
  const { freePerMinute, freePerDay, deadlineMs } = config.redis;
  const shared = new SharedCooldowns({
    redis: config.redis.url,
    apiKey: config.openrouter.apiKey,
    clock,
    freePerMinute,
    ...(freePerDay !== undefined && { freePerDay }),
    ...(deadlineMs !== undefined && { deadlineMs }),
    ...(log && { log }),
  });
  // The daily :free limit is the account's: asked once at start, not in a turn (free-quota.ts).
  if (backendsFrom(config).some((b) => b.kind === 'openrouter' && b.model.endsWith(':free'))) {
    const learn = () => void learnFreeDaily(shared, config.openrouter.baseURL, config.openrouter.apiKey as string, log);
    if (freePerDay === undefined) learn();
    // Redis back after an outage (maybe restarted, empty): the account's own count of today is the truth to re-seed
    // the fleet's from (the store also writes back what this process knew; the higher count wins).
    shared.on('back', learn);
  }
  return shared;
}

export function createChain(config: Config, clock: Clock, events: AgentEvents, runAttempt?: AttemptRunner, shared?: SharedCooldowns): ChainLLM {
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
    ...(shared && { shared }),
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
