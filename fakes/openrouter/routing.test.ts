import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunningFake } from './server.js';
import { fakeFor, makeScenario, MODEL_A, MODEL_B, openaiFor, raw, rawChat, sse, streamedText, USER } from './testing.js';
import { route } from './wire/routing.js';
import { exampleOf, SCHEMA_BUDGET, validates } from './wire/structured.js';

const PROVIDERS = ['DeepInfra', 'Together', 'Groq'];

describe('provider routing', () => {
  it.each([
    [undefined, 'DeepInfra'],
    [{ order: ['groq', 'Together'] }, 'Groq'],
    [{ order: ['Fireworks', 'together'] }, 'Together'],
    [{ only: ['Together', 'Groq'] }, 'Together'],
    [{ ignore: ['DeepInfra'] }, 'Together'],
    [{ order: ['Fireworks'] }, 'DeepInfra'],
    [{ only: ['Groq'], order: ['Together'] }, 'Groq'],
  ])('%o routes to %s', (prefs, provider) => {
    expect(route(PROVIDERS, prefs)).toEqual({ provider });
  });

  it.each([
    [{ only: ['Fireworks'] }, ['fireworks']],
    [{ ignore: PROVIDERS }, []],
    [{ order: ['Fireworks'], allow_fallbacks: false }, ['fireworks']],
    [{ only: ['Groq'], ignore: ['groq'] }, ['groq']],
  ])("%o: OpenRouter's 404 naming what the model has and what was asked", (prefs, requested) => {
    expect(route(PROVIDERS, prefs)).toEqual({
      error: {
        status: 404,
        message: 'No allowed providers are available for the selected model.',
        metadata: { available_providers: ['deepinfra', 'together', 'groq'], requested_providers: requested },
        fallsBack: true,
      },
    });
  });

  describe('in the running fake', () => {
    let fake: RunningFake;
    afterEach(() => fake.close());

    it("the routed provider answers (body and errors name it); nothing allowed: the 404, models[] falls back", async () => {
      fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, catalog: [{ model: MODEL_A, providers: PROVIDERS }] });
      const ordered = JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER, provider: { order: ['Groq'] } })).body) as { provider: string };
      expect(ordered.provider).toBe('Groq');
      const refused = await rawChat(fake, { model: MODEL_A, messages: USER, provider: { only: ['Fireworks'] } });
      expect(refused.status).toBe(404);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { message: 'No allowed providers are available for the selected model.', code: 404 } });
      const fellBack = JSON.parse((await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: USER, provider: { ignore: PROVIDERS } })).body) as { model: string };
      expect(fellBack.model).toBe(MODEL_B);
      expect((await rawChat(fake, { model: MODEL_A, messages: USER, provider: { only: 'Groq' } })).status).toBe(400);
    });
  });
});

describe('response_format', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());
  const ORDER = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['shipped', 'packed'] },
      eta_days: { type: 'integer', minimum: 1, maximum: 9 },
      note: { type: 'string', minLength: 3, maxLength: 12 },
      items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] }, minItems: 2 },
      gift: { type: ['boolean', 'null'] },
    },
    required: ['status', 'eta_days', 'note', 'items', 'gift'],
    additionalProperties: false,
  };

  it('json_schema: a JSON reply that validates against the schema, streamed in pieces or not', async () => {
    fake = await fakeFor({ reply: { text: 'Your order shipped.', ttft: '0ms' } });
    const format = { type: 'json_schema', json_schema: { name: 'order', strict: true, schema: ORDER } };
    const body = JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER, response_format: format })).body) as { choices: { message: { content: string } }[] };
    const value = JSON.parse(body.choices[0]?.message.content ?? '') as unknown;
    expect(z.fromJSONSchema(ORDER as never).safeParse(value).success).toBe(true);
    expect(value).toMatchObject({ status: 'shipped', eta_days: 1, note: 'Your order s' });
    const streamed = sse((await rawChat(fake, { model: MODEL_A, messages: USER, response_format: format, stream: true })).body);
    expect(streamed.data.length).toBeGreaterThan(5);
    expect(JSON.parse(streamedText(streamed.data))).toEqual(value);
  });

  it('json_schema: scripted text that already validates is sent as is; json_object wraps plain text', async () => {
    fake = await fakeFor({ reply: { text: '{"status":"packed","eta_days":3,"note":"soon","items":[{"sku":"a"},{"sku":"b"}],"gift":false}', ttft: '0ms' } });
    const client = openaiFor(fake);
    const asIs = await client.chat.completions.create({ model: MODEL_A, messages: USER, response_format: { type: 'json_schema', json_schema: { name: 'o', schema: ORDER } } });
    expect(JSON.parse(asIs.choices[0]?.message.content ?? '')).toMatchObject({ status: 'packed', eta_days: 3 });
    fake.setScenario(makeScenario({ reply: { text: 'Plain words.', ttft: '0ms' } }));
    const wrapped = await client.chat.completions.create({ model: MODEL_A, messages: USER, response_format: { type: 'json_object' } });
    expect(JSON.parse(wrapped.choices[0]?.message.content ?? '')).toEqual({ answer: 'Plain words.' });
  });

  it('the example builder meets bounds, enums, consts and alternatives', () => {
    const schema = { type: 'object', properties: { n: { type: 'number', exclusiveMinimum: 5 }, c: { const: 'x' }, a: { anyOf: [{ type: 'integer', minimum: 2 }, { type: 'string' }] } }, required: ['n', 'c', 'a'] };
    const value = exampleOf(schema, 'text');
    expect(value).toEqual({ n: 6, c: 'x', a: 2 });
    expect(validates(schema, value)).toBe(true);
  });

  it("a client's schema cannot make the example unbounded: 10^9 items, a 400 MB string, endless nesting, a backtracking pattern", async () => {
    const cube = { type: 'array', minItems: 1000, items: { type: 'array', minItems: 1000, items: { type: 'array', minItems: 1000, items: { type: 'string', minLength: 4000 } } } };
    expect(JSON.stringify(exampleOf(cube, 'x')).length).toBeLessThan(SCHEMA_BUDGET.values * 8 + SCHEMA_BUDGET.characters * 2);
    expect(JSON.stringify(exampleOf({ type: 'string', minLength: 4e8 }, 'x')).length).toBeLessThanOrEqual(SCHEMA_BUDGET.characters + 2);
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100_000; i++) deep = { type: 'array', items: deep };
    expect(() => exampleOf(deep, 'x')).not.toThrow();
    expect(validates(deep, [])).toBe(false);
    // Over HTTP the fake answers at once and stays up: the pattern is never run.
    fake = await fakeFor({ reply: { text: '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"', ttft: '0ms', tokensPerSecond: 100_000 } }, { speed: 1000 });
    const body = { model: MODEL_A, messages: USER, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^(a+)+$' } } } };
    const res = await raw(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: 'Bearer sk-or-v1-x', 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const cubeBody = { ...body, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: cube } } };
    const big = await raw(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: 'Bearer sk-or-v1-x', 'Content-Type': 'application/json' }, body: JSON.stringify(cubeBody) });
    expect(big.status).toBe(200);
  });
});

describe('reasoning', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('a model declared to reason, asked for it: reasoning deltas first, then the text; reasoning tokens in usage', async () => {
    fake = await fakeFor({ reply: { text: 'Paris.', ttft: '0ms' }, catalog: [{ model: MODEL_A, reasoning: true }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true, reasoning: { effort: 'low' } });
    const chunks = sse(res.body).data.slice(0, -1).map((d) => JSON.parse(d) as { choices: { delta: Record<string, unknown> }[]; usage?: { completion_tokens: number; completion_tokens_details: { reasoning_tokens: number } } });
    const reasoning = chunks.filter((c) => typeof c.choices[0]?.delta.reasoning === 'string');
    expect(reasoning.length).toBeGreaterThan(0);
    expect(reasoning[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: '', reasoning_details: [{ type: 'reasoning.text' }] });
    expect(chunks.findIndex((c) => c.choices[0]?.delta.content === 'Paris.')).toBeGreaterThan(chunks.indexOf(reasoning.at(-1)!));
    const usage = chunks.at(-1)?.usage;
    expect(usage?.completion_tokens_details.reasoning_tokens).toBe(reasoning.length);
    expect(usage?.completion_tokens).toBe(reasoning.length + 1);
    const whole = JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER, include_reasoning: true })).body) as { choices: { message: { reasoning: string; content: string } }[] };
    expect(whole.choices[0]?.message.reasoning).toEqual(expect.any(String));
    expect(whole.choices[0]?.message.content).toBe('Paris.');
  });

  it('not asked, excluded, or a model that does not reason: no reasoning; /models says which reason', async () => {
    fake = await fakeFor({ reply: { text: 'Paris.', ttft: '0ms' }, catalog: [{ model: MODEL_A, reasoning: true }] });
    for (const [model, extra] of [[MODEL_A, {}], [MODEL_A, { reasoning: { exclude: true } }], [MODEL_B, { reasoning: { effort: 'high' } }]] as const) {
      const body = JSON.parse((await rawChat(fake, { model, messages: USER, ...extra })).body) as { choices: { message: { reasoning: unknown } }[]; usage: { completion_tokens: number } };
      expect(body.choices[0]?.message.reasoning).toBeNull();
      expect(body.usage.completion_tokens).toBe(1);
    }
    const models = JSON.parse((await raw(`${fake.baseURL}/models`)).body) as { data: { id: string; supported_parameters: string[] }[] };
    expect(models.data.find((m) => m.id === MODEL_A)?.supported_parameters).toContain('reasoning');
    expect(models.data.find((m) => m.id === MODEL_B)?.supported_parameters).not.toContain('reasoning');
  });
});
