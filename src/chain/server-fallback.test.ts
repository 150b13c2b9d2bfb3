/**
 * OPENROUTER_SERVER_FALLBACK through the fake OpenRouter and the real attempt runner: what one `models[]` request
 * that OpenRouter served from a later model, or that failed on every model it carried, is booked to, and what the
 * next turn then sends (the journal is the fake's record of every request).
 */
import { llm } from '@livekit/agents';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { startFake, type RunningFake } from '../../fakes/openrouter/index.js';
import { loadConfig } from '../config.js';
import { isSourcedChunk, type ChainLLM } from './chain-llm.js';
import { createChain } from './create.js';
import { AgentEvents } from './events.js';

// Real time: what is booked where does not depend on speed, and a loaded machine must not fire a deadline.
const SPEED = 1;
const A = 'meta-llama/llama-3.3-70b-instruct:free';
const B = 'qwen/qwen-2.5-72b-instruct:free';
const LOCAL = 'local/stand-in';

let fake: RunningFake | undefined;
afterEach(async () => fake?.close());

async function rig(rules: string[], models: readonly string[] = [A, B]) {
  const scenario = parseScenario(
    [
      'name: server-fallback',
      'description: models[] inside the chain',
      `agent: { models: [${models.map((m) => `"${m}"`).join(', ')}] }`,
      'fake:',
      `  models: ["${LOCAL}"]`,
      '  reply: { text: "Paris is the capital of France.", ttft: 100ms, tokensPerSecond: 100 }',
      '  rules:',
      ...rules.map((rule) => `    - ${rule}`),
    ].join('\n'),
    'server-fallback.yaml',
  );
  fake = await startFake({ scenario, speed: SPEED });
  const clock = new ScaledClock(SPEED, fake.clock.origin);
  const events = new AgentEvents(clock);
  const seen: AgentEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const config = loadConfig({
    OPENROUTER_API_KEY: 'sk-or-v1-server-fallback-test',
    LLM_MODEL: models.join(','),
    OPENROUTER_BASE_URL: fake.baseURL,
    OPENROUTER_SERVER_FALLBACK: 'true',
    // Not about the hold: a slow machine must not make the caller hear it here.
    HOLD_AFTER_MS: '30000',
    // The fake stands in for the local server too, as the model the chain reaches last.
    LOCAL_LLM_BASE_URL: fake.baseURL,
    LOCAL_LLM_MODEL: LOCAL,
  });
  const chain = createChain(config, clock, events);
  const running = fake;
  const requests = () => running.journal().entries.filter((e) => e.path.endsWith('/chat/completions')).map((e) => [e.model, e.servedBy]);
  return { chain, seen, requests };
}

async function turn(chain: ChainLLM, text: string): Promise<[string, string][]> {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: text });
  const heard: [string, string][] = [];
  for await (const chunk of chain.chat({ chatCtx: ctx })) if (isSourcedChunk(chunk) && chunk.delta?.content) heard.push([chunk.source, chunk.delta.content]);
  return heard;
}

describe('OPENROUTER_SERVER_FALLBACK through the fake', () => {
  it("an answer OpenRouter served from the request's later model is booked to it, and the next turn asks it directly", async () => {
    const { chain, seen, requests } = await rig([`{ when: { model: "${A}" }, then: { error: provider-down } }`]);
    const heard = await turn(chain, 'What is the capital of France?');
    expect(new Set(heard.map(([source]) => source))).toEqual(new Set([`openrouter:${B}`]));
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: A, outcome: 'unavailable' },
      { model: B, outcome: 'ok', status: 200 },
    ]);
    expect(seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'answered', source: `openrouter:${B}` });
    expect(chain.status().map((s) => [s.model, s.ok])).toEqual([
      [A, false],
      [B, true],
      [LOCAL, true],
    ]);
    await turn(chain, 'And how many people live there?');
    expect(requests()).toEqual([
      [A, B],
      [B, B],
    ]);
  });

  it('a request that failed on every model it carried cools them all: one dead request, then the local server', async () => {
    const { chain, seen, requests } = await rig([`{ when: { model: "*/*:free" }, then: { error: provider-down } }`]);
    const heard = await turn(chain, 'What is the capital of France?');
    expect(new Set(heard.map(([source]) => source))).toEqual(new Set(['local']));
    await turn(chain, 'And how many people live there?');
    // Both turns: one request carrying both models (failed), then none of them again while they cool.
    expect(requests()).toEqual([
      [A, B],
      [LOCAL, LOCAL],
      [LOCAL, LOCAL],
    ]);
    expect(seen.filter((e) => e.type === 'skip').map((e) => (e as { model: string }).model)).toEqual([A, B]);
  });

  it('a chain of four: each request carries at most three models (OpenRouter refuses more), the fourth is the chain\'s', async () => {
    const C = 'mistralai/mistral-7b-instruct:free';
    const D = 'google/gemma-2-9b-it:free';
    const { chain, seen, requests } = await rig([`{ when: { model: "*/*:free" }, then: { error: provider-down } }`], [A, B, C, D]);
    const heard = await turn(chain, 'What is the capital of France?');
    expect(new Set(heard.map(([source]) => source))).toEqual(new Set(['local']));
    // A's request carried A, B and C, the last OpenRouter tried (with D too, the whole request is a 400); D, not
    // carried, was asked on its own.
    expect(requests()).toEqual([
      [A, C],
      [D, D],
      [LOCAL, LOCAL],
    ]);
    expect(seen.filter((e) => e.type === 'attempt').map((e) => (e as { outcome: string }).outcome)).not.toContain('bad-request');
  });
});
