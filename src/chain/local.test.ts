/**
 * The chain's last resort against the real llama.cpp server (built from source by tools/llama, tiny model,
 * a grammar that makes every answer exactly FALLBACK_SENTENCE).
 */
import { llm } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { startFake, type RunningFake } from '../../fakes/openrouter/index.js';
import { ensureLlama, FALLBACK_SENTENCE, startLlamaServer, startSlowLlamaServer, type LlamaServer } from '../../tools/llama/index.js';
import { loadConfig } from '../config.js';
import { closedPort } from '../testing/ports.js';
import { httpAttemptRunner } from './attempt.js';
import type { Backend } from './backends.js';
import { isSourcedChunk } from './chain-llm.js';
import { createChain } from './create.js';
import { AgentEvents } from './events.js';

const SPEED = 10;
const localDeadlines = { headersMs: 5_000, firstTokenMs: 20_000, idleMs: 10_000 };
let setup: { serverBin: string; modelPath: string };
let llama: LlamaServer;
let fake: RunningFake;

beforeAll(async () => {
  setup = await ensureLlama();
  llama = await startLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath });
  const scenario = parseScenario(
    'name: all-down\ndescription: every OpenRouter model down\nagent: { models: [a/one, b/two] }\nfake:\n  rules:\n    - { when: { model: "*" }, then: { error: provider-down } }\n',
    'all-down.yaml',
  );
  fake = await startFake({ scenario, speed: SPEED });
}, 120_000);
afterAll(async () => {
  await llama?.stop();
  await fake?.close();
});

function ask(): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  return ctx;
}

async function localAttempt(baseURL: string, clock = new ScaledClock(SPEED)) {
  const backend: Backend = { id: 'local', kind: 'local', model: 'holdline-tiny', baseURL, deadlines: localDeadlines };
  let text = '';
  const started = clock.now();
  const result = await httpAttemptRunner({ apiKeyFor: () => 'local' })({
    backend,
    chatCtx: ask(),
    clock,
    signal: new AbortController().signal,
    onChunk: (c) => (text += c.delta?.content ?? ''),
  });
  return { ...result, text, tookMs: clock.now() - started };
}

describe('the local llama.cpp backend', () => {
  it('streams exactly the grammar sentence through the openai plugin', async () => {
    const r = await localAttempt(llama.baseURL);
    expect(r.failure).toBeUndefined();
    expect(r.text).toBe(FALLBACK_SENTENCE);
  });

  it('down: connection refused is classified and fails over within milliseconds', async () => {
    const r = await localAttempt(`http://127.0.0.1:${await closedPort()}/v1`);
    expect(r.failure).toMatchObject({ class: 'connection' });
    // Refused at once, not waited out: it ends before the first of the local deadlines.
    expect(r.tookMs).toBeLessThan(localDeadlines.headersMs);
  });

  it('slow to its first byte: the local deadline ends the attempt', async () => {
    const clock = new ScaledClock(SPEED);
    const slow = await startSlowLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath, firstByteDelayMs: 60_000, clock });
    try {
      const r = await localAttempt(slow.baseURL, clock);
      expect(r.failure).toMatchObject({ class: 'timeout' });
      expect(r.tookMs).toBeGreaterThanOrEqual(localDeadlines.headersMs);
      expect(r.tookMs).toBeLessThan(localDeadlines.headersMs + 3_000);
    } finally {
      await slow.stop();
    }
  }, 60_000);

  it('the chain falls through every OpenRouter model to it and streams the exact sentence', async () => {
    const clock = new ScaledClock(SPEED, fake.clock.origin);
    const events = new AgentEvents(clock);
    const seen: AgentEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const config = loadConfig({
      OPENROUTER_API_KEY: 'sk-or-v1-local-test',
      OPENROUTER_BASE_URL: fake.baseURL,
      LLM_MODEL: 'a/one,b/two',
      LOCAL_LLM_BASE_URL: llama.baseURL,
      LOCAL_LLM_MODEL: 'holdline-tiny',
    });
    const chain = createChain(config, clock, events);
    const chunks = [];
    for await (const chunk of chain.chat({ chatCtx: ask() })) if (isSourcedChunk(chunk)) chunks.push(chunk);
    expect(chunks.map((c) => c.source)).toEqual(chunks.map(() => 'local'));
    expect(chunks.map((c) => c.delta?.content).join('')).toBe(FALLBACK_SENTENCE);
    expect(seen.filter((e) => e.type === 'attempt').map((e) => [e.model, e.outcome])).toEqual([
      ['a/one', 'unavailable'],
      ['b/two', 'unavailable'],
      ['holdline-tiny', 'ok'],
    ]);
    // Answered within the first pass: no hold, no wait.
    expect(seen.filter((e) => e.type === 'policy')).toEqual([]);
  });
});
