/** The package API (`@holdline/fake`): every scenario form, rules in code, setScenario, and the assertion helpers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { expectOutcomes, expectRequestsPerModel, outcomes, requestsPerModel } from './assert.js';
import { ScenarioError, startFakeOpenRouter, when, type FakeOpenRouter } from './public.js';

const A = 'openai/gpt-4o-mini';
const B = 'anthropic/claude-3.5-haiku';
const fakes: FakeOpenRouter[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function start(options: Parameters<typeof startFakeOpenRouter>[0]): Promise<FakeOpenRouter> {
  const fake = await startFakeOpenRouter({ speed: 20, ...options });
  fakes.push(fake);
  return fake;
}

async function ask(fake: FakeOpenRouter, model: string): Promise<number> {
  const client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'sk-or-v1-test', maxRetries: 0, logLevel: 'off' });
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    return 200;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe('startFakeOpenRouter', () => {
  it('takes a scenario object with rules built in code, and the helpers count what it was asked', async () => {
    const fake = await start({
      scenario: { agent: { models: [A, B] }, fake: { reply: { text: 'Hello there.' } } },
      rules: [when({ model: A, nth: [1, 2] }).then({ error: 'rate-limit-per-minute', retryAfter: '2s' })],
    });
    expect([await ask(fake, A), await ask(fake, A), await ask(fake, A), await ask(fake, B)]).toEqual([429, 429, 200, 200]);
    expect(requestsPerModel(fake)).toEqual({ [A]: 3, [B]: 1 });
    expect(outcomes(fake)).toEqual(['429', '429', '200', '200']);
    expect(outcomes(fake, B)).toEqual(['200']);
    expectRequestsPerModel(fake, { [A]: 3, [B]: 1 });
    expectOutcomes(fake, ['429', '429', '200'], A);
    expect(() => expectRequestsPerModel(fake, { [A]: 2 })).toThrow(/requests per model differ/);
    expect(() => expectOutcomes(fake, ['200'])).toThrow(/outcomes of the chat requests differ/);
  });

  it('takes YAML text, a file path and a library name; setScenario swaps live and reset starts the count over', async () => {
    const yaml = ['name: from-text', 'description: text', `agent: { models: ["${A}"] }`, 'fake:', '  rules:', `    - { when: { model: "${A}" }, then: { error: provider-down } }`].join('\n');
    const fake = await start({ scenario: yaml });
    expect(await ask(fake, A)).toBe(502);

    const dir = mkdtempSync(join(tmpdir(), 'holdline-fake-'));
    const file = join(dir, 'my-outage.yaml');
    writeFileSync(file, ['name: my-outage', 'description: a file', `agent: { models: ["${A}"] }`].join('\n'));
    fake.setScenario(file, [when({ model: A }).then({ status: 418, message: 'teapot' })]);
    expect(await ask(fake, A)).toBe(418);
    fake.reset();
    fake.setScenario('calm-day');
    expect(fake.journal().entries).toEqual([]);
    const library = await start({ scenario: 'rate-limit-storm' });
    expect(await ask(library, 'meta-llama/llama-3.3-70b-instruct:free')).toBe(429);
  });

  it("fake.account in a scenario object, or the account option over any scenario: a free key's minute is 20 :free requests", async () => {
    const FREE = 'meta-llama/llama-3.3-70b-instruct:free';
    // Speed 1 and noon on the calendar: the minute ends 60 s of wall time after the start, far past these requests.
    const inObject = await start({ speed: 1, scenario: { agent: { models: [FREE] }, fake: { startsAt: '2026-01-15T12:00:00Z', account: { credits: 0 } } } });
    const codes = [];
    for (let i = 0; i < 21; i++) codes.push(await ask(inObject, FREE));
    expect(codes).toEqual([...Array(20).fill(200), 429]);

    // The option wins over the scenario's own account, and stays through setScenario.
    const option = await start({ scenario: 'calm-day', account: { quota: false } });
    for (let i = 0; i < 21; i++) expect(await ask(option, FREE)).toBe(200);
    option.setScenario({ agent: { models: [FREE] }, fake: { account: { quota: true } } });
    expect(await ask(option, FREE)).toBe(200);
  });

  it('rejects a bad account with the key that is wrong', async () => {
    await expect(start({ scenario: 'calm-day', account: { credits: -1 } })).rejects.toThrow(/^account:\d+:\d+ fake\.account\.credits: expected credits bought in USD, 0 or more, got -1$/);
    await expect(start({ scenario: { agent: { models: [A] }, fake: { account: { quota: 'off' as unknown as boolean } } } })).rejects.toThrow(/fake\.account\.quota: expected a boolean, got "off"/);
  });

  it('rejects a bad scenario object with the key that is wrong', async () => {
    await expect(start({ scenario: { agent: { models: [A] } }, rules: [{ when: { model: A }, then: { error: 'rate-limited' as 'timeout' } }] })).rejects.toThrow(ScenarioError);
    await expect(start({ scenario: { agent: { models: [] } } })).rejects.toThrow(/agent\.models: expected at least one model in the chain/);
    await expect(start({ scenario: 'no/such/file.yaml' })).rejects.toThrow(/no such file/);
  });
});
