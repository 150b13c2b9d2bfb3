/**
 * holdline's real chain (the real attempt runner and the official client) pointed at the fake OpenRouter playing a
 * few rules, the fake standing in for the local server too (as the model the chain reaches last). For tests of what
 * the chain makes of OpenRouter's answers: what the caller heard, the events, and what was asked (the fake's journal).
 */
import { llm } from '@livekit/agents';
import { ScaledClock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { startFake, type RunningFake } from '../../fakes/openrouter/index.js';
import { isSourcedChunk, type ChainLLM } from '../chain/chain-llm.js';
import { createChain } from '../chain/create.js';
import { AgentEvents } from '../chain/events.js';
import { loadConfig } from '../config.js';

/** The model the fake answers as the local server. */
export const LOCAL = 'local/stand-in';

export interface ChainOnFake {
  fake: RunningFake;
  chain: ChainLLM;
  clock: ScaledClock;
  /** Every event the chain emitted so far. */
  seen: AgentEvent[];
  /** Every chat request the fake got so far: [the model asked, the model that served or refused]. */
  requests(): [string | null, string | null][];
}

/**
 * Starts the fake with `rules` (YAML flow mappings, one a rule) and a chain over `models`, then the local stand-in.
 * Real time (speed 1): what is booked where does not depend on speed, and a loaded machine must not fire a deadline.
 * Close it with `fake.close()`.
 */
export async function chainOnFake(rules: string[], models: readonly string[], env: Record<string, string> = {}): Promise<ChainOnFake> {
  const speed = 1;
  const scenario = parseScenario(
    [
      'name: chain-on-fake',
      'description: the chain against a few rules',
      `agent: { models: [${models.map((m) => `"${m}"`).join(', ')}] }`,
      'fake:',
      `  models: ["${LOCAL}"]`,
      '  reply: { text: "Paris is the capital of France.", ttft: 100ms, tokensPerSecond: 100 }',
      '  rules:',
      ...rules.map((rule) => `    - ${rule}`),
    ].join('\n'),
    'chain-on-fake.yaml',
  );
  const fake = await startFake({ scenario, speed });
  const clock = new ScaledClock(speed, fake.clock.origin);
  const events = new AgentEvents(clock);
  const seen: AgentEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const config = loadConfig({
    OPENROUTER_API_KEY: 'sk-or-v1-chain-on-fake-test',
    LLM_MODEL: models.join(','),
    OPENROUTER_BASE_URL: fake.baseURL,
    // Not about the hold: a slow machine must not make the caller hear it here.
    HOLD_AFTER_MS: '30000',
    LOCAL_LLM_BASE_URL: fake.baseURL,
    LOCAL_LLM_MODEL: LOCAL,
    ...env,
  });
  const chain = createChain(config, clock, events);
  const requests = () => fake.journal().entries.filter((e) => e.path.endsWith('/chat/completions')).map((e): [string | null, string | null] => [e.model, e.servedBy]);
  return { fake, chain, clock, seen, requests };
}

/** One caller turn: what was heard, as [source, text] pieces. */
export async function turn(chain: ChainLLM, text: string): Promise<[string, string][]> {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: text });
  const heard: [string, string][] = [];
  for await (const chunk of chain.chat({ chatCtx: ctx })) if (isSourcedChunk(chunk) && chunk.delta?.content) heard.push([chunk.source, chunk.delta.content]);
  return heard;
}

/** The sources a turn was heard from. */
export function sources(heard: [string, string][]): Set<string> {
  return new Set(heard.map(([source]) => source));
}
