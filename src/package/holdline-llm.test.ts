/**
 * createHoldlineLLM: options checked all at once, the environment under the options,
 * and one turn through a real chain against the fake: its events and metrics.
 */
import { llm } from '@livekit/agents';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { startFakeOpenRouter, when, type FakeOpenRouter } from '../../fakes/openrouter/public.js';
import { Redis } from 'ioredis';
import { closedPort } from '../testing/ports.js';
import { startRedisServer } from '../testing/redis-server.js';
import { createHoldlineLLM, HoldlineOptionsError, type HoldlineLLM, type HoldlineLLMOptions } from './holdline-llm.js';

const fakes: FakeOpenRouter[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('createHoldlineLLM', () => {
  it('lists every bad option at once, a bad redis one too (without echoing a URL that may hold a password)', () => {
    const bad = { models: ['a/b', 'a/b'], hold: ' ', policy: { retryWindowMs: -1, backoffMs: 5 }, redis: 'http://user:hunter2@cache' } as unknown as HoldlineLLMOptions;
    let problems: string[] = [];
    try {
      createHoldlineLLM(bad);
    } catch (error) {
      expect(error).toBeInstanceOf(HoldlineOptionsError);
      problems = (error as HoldlineOptionsError).problems;
    }
    expect(problems).toEqual([
      'models: the chain names a model twice',
      'hold: expected a non-empty string',
      'policy.retryWindowMs: expected whole milliseconds (0 or more)',
      'policy: Unrecognized key: "backoffMs"',
      'redis: expected a redis:// or rediss:// URL or an ioredis client (the value is not shown: a URL may hold a password)',
    ]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('takes every policy setting the environment has, hold and hedge included, and checks the merged values', () => {
    const chain = createHoldlineLLM({ models: ['a/b'], log: false, env: {}, policy: { holdAfterMs: 1_500, hedgeMinMs: 400, hedgeMaxMs: 900, hedgeBudgetPercent: 0, cooldownMaxMs: 20_000 } });
    expect(chain.options.policy).toMatchObject({ holdAfterMs: 1_500, hedgeMinMs: 400, hedgeMaxMs: 900, hedgeBudgetPercent: 0, cooldownMaxMs: 20_000 });
    expect(() => createHoldlineLLM({ models: ['a/b'], log: false, env: {}, policy: { hedgeMinMs: 5_000 } })).toThrow(/policy\.hedgeMinMs: 5000 is above policy\.hedgeMaxMs/);
    expect(() => createHoldlineLLM({ models: ['a/b'], log: false, env: {}, policy: { holdAfterMs: 0 } })).toThrow(/policy\.holdAfterMs: 0/);
    expect(() => createHoldlineLLM({ models: ['a/b'], log: false, env: {}, policy: { hedgeBudgetPercent: 150 } })).toThrow(/policy\.hedgeBudgetPercent: expected a whole percentage/);
  });

  it('takes the environment under its options: the chain, the messages and the policy', () => {
    const chain = createHoldlineLLM({
      models: ['a/one', 'b/two'],
      hold: 'One moment.',
      policy: { retryWindowMs: 5_000 },
      log: false,
      env: { OPENROUTER_API_KEY: 'sk-or-v1-x', BACKOFF_MAX_MS: '2000', APOLOGY_MESSAGE: 'Not now, sorry.' },
    });
    expect(chain).toBeInstanceOf(llm.LLM);
    expect(chain.model).toBe('openrouter:a/one > openrouter:b/two > local');
    expect(chain.options.holdMessage).toBe('One moment.');
    expect(chain.options.apologyMessage).toBe('Not now, sorry.');
    expect(chain.options.policy).toMatchObject({ retryWindowMs: 5_000, backoffMaxMs: 2_000 });
  });

  it('answers a turn through the chain, with the same events and metrics as holdline\'s agent', async () => {
    const fake = await startFakeOpenRouter({
      scenario: { agent: { models: ['a/one', 'b/two'] }, fake: { reply: { text: 'Paris.', ttft: '10ms' } } },
      rules: [when({ model: 'a/one' }).then({ error: 'rate-limit-per-minute', retryAfter: '30s' })],
    });
    fakes.push(fake);
    const chain = createHoldlineLLM({
      models: ['a/one', 'b/two'],
      openrouter: { apiKey: 'sk-or-v1-x', baseURL: fake.baseURL },
      local: { baseURL: `http://127.0.0.1:${await closedPort()}/v1` },
      log: false,
    });
    const seen: AgentEvent[] = [];
    chain.events.subscribe((e) => seen.push(e));
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'Capital of France?' });
    let text = '';
    for await (const chunk of chain.chat({ chatCtx })) text += chunk.delta?.content ?? '';

    expect(text).toBe('Paris.');
    expect(seen.map((e) => (e.type === 'attempt' ? `${e.model}:${e.outcome}` : e.type))).toEqual(['turn', 'a/one:rate-limit', 'b/two:ok', 'turn_end']);
    const metrics = await chain.metrics.metrics();
    expect(metrics).toMatch(/holdline_llm_requests_total\{backend="openrouter",model="a\/one",outcome="rate-limit"\} 1/);
    expect(metrics).toMatch(/holdline_turns_total\{outcome="answered"\} 1/);
  });

  it('redis: two LLMs on one key (one given a URL, one an ioredis client) share a 429 through a real Redis', async () => {
    const redis = await startRedisServer();
    const client = new Redis(redis.url);
    try {
      const fake = await startFakeOpenRouter({
        scenario: { agent: { models: ['a/one', 'b/two'] }, fake: { reply: { text: 'Paris.', ttft: '10ms' } } },
        rules: [when({ model: 'a/one' }).then({ error: 'rate-limit-per-minute', retryAfter: '30s' })],
      });
      fakes.push(fake);
      const local = { baseURL: `http://127.0.0.1:${await closedPort()}/v1` };
      const openrouter = { apiKey: 'sk-or-v1-x', baseURL: fake.baseURL };
      const first = createHoldlineLLM({ models: ['a/one', 'b/two'], openrouter, local, log: false, env: {}, redis: redis.url });
      const second = createHoldlineLLM({ models: ['a/one', 'b/two'], openrouter, local, log: false, env: {}, redis: client });
      const outcomes = async (chain: HoldlineLLM) => {
        const seen: string[] = [];
        const stop = chain.events.subscribe((e) => (e.type === 'attempt' || e.type === 'skip' ? seen.push(`${e.model}:${e.type === 'skip' ? 'skip' : e.outcome}`) : undefined));
        const chatCtx = llm.ChatContext.empty();
        chatCtx.addMessage({ role: 'user', content: 'Capital of France?' });
        for await (const _chunk of chain.chat({ chatCtx })) void _chunk;
        stop();
        return seen;
      };
      await Promise.all([first, second].map((c) => new Promise((resolve) => (c.options.shared?.client.status === 'ready' ? resolve(undefined) : c.options.shared?.client.once('ready', resolve)))));
      expect(await outcomes(first)).toEqual(['a/one:rate-limit', 'b/two:ok']);
      expect(await outcomes(second)).toEqual(['a/one:skip', 'b/two:ok']);
      expect(await second.metrics.metrics()).toMatch(/holdline_redis_up 1/);
      await first.aclose();
      await second.aclose();
      // The LLM closes the client it made, not the one it was given.
      expect(first.options.shared?.client.status).toBe('end');
      expect(client.status).toBe('ready');
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});
