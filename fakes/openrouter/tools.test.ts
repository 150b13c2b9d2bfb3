import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, KEY, MODEL_A, MODEL_B, openaiFor, raw, rawChat, sse, USER } from './testing.js';
import { OBSERVED } from './wire/errors.js';

const TOOLS = [{ type: 'function', function: { name: 'lookup_order', description: 'Looks an order up', parameters: { type: 'object', properties: { order_id: { type: 'string' } } } } }];
const LOOKUP = { name: 'lookup_order', arguments: { order_id: '4417' } };
const ARGS = '{"order_id":"4417"}';
const TOOL_RESULT = [...USER, { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: ARGS } }] }, { role: 'tool', tool_call_id: 'call_1', content: 'shipped' }];

type Chunk = { choices: { delta: Record<string, unknown>; finish_reason: string | null; native_finish_reason?: string | null }[]; usage?: { completion_tokens: number } };

describe('tool calls', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('streams a scripted call as OpenRouter does: start (index, id, type, name), arguments in pieces, finish tool_calls', async () => {
    fake = await fakeFor({ rules: [{ then: { toolCalls: [LOOKUP], ttft: '0ms', tokensPerSecond: 1000 } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true, tools: TOOLS });
    const { data } = sse(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const start = chunks[0]?.choices[0]?.delta;
    expect(start).toEqual({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: expect.stringMatching(/^call_[0-9A-Za-z]{24}$/), type: 'function', function: { name: 'lookup_order', arguments: '' } }] });
    const pieces = chunks.slice(1, -2).map((c) => c.choices[0]?.delta);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(p).toEqual({ tool_calls: [{ index: 0, function: { arguments: expect.any(String) } }] });
    expect(pieces.map((p) => (p?.tool_calls as { function: { arguments: string } }[])[0]?.function.arguments).join('')).toBe(ARGS);
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ finish_reason: 'tool_calls', native_finish_reason: 'tool_calls' });
    // One completion token per chunk: the start and every piece.
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(1 + pieces.length);
    // The usage chunk repeats the finish (OpenRouter's docs): a client must not take it for a second set of calls.
    expect(chunks.at(-1)?.choices).toMatchObject([{ delta: { content: '' }, finish_reason: 'tool_calls', native_finish_reason: 'tool_calls' }]);
  });

  it('the pieces come at the scripted pace', async () => {
    fake = await fakeFor({ rules: [{ then: { toolCalls: [LOOKUP], ttft: '1s', tokensPerSecond: 5 } }] }, { speed: 50 });
    await rawChat(fake, { model: MODEL_A, messages: USER, stream: true, tools: TOOLS });
    // 1 start + 5 pieces of 4 characters (19 characters) at 5 per second after a 1 s ttft: the last at 2 s.
    expect(fake.journal().entries[0]?.durationMs).toBeGreaterThanOrEqual(2000);
  });

  it('the openai client assembles text then calls, streamed or not; ids are seeded', async () => {
    fake = await fakeFor({ rules: [{ then: { text: 'Let me check.', toolCalls: [LOOKUP, { name: 'lookup_order', arguments: '{"order_id":"9"}' }] } }] });
    const client = openaiFor(fake);
    const whole = await client.chat.completions.create({ model: MODEL_A, messages: USER, tools: TOOLS as never });
    const choice = whole.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('Let me check.');
    const calls = (choice?.message.tool_calls ?? []) as { id: string; function: { name: string; arguments: string } }[];
    expect(calls.map((c) => [c.function.name, c.function.arguments])).toEqual([['lookup_order', ARGS], ['lookup_order', '{"order_id":"9"}']]);

    fake.reset();
    const stream = await client.chat.completions.create({ model: MODEL_A, messages: USER, tools: TOOLS as never, stream: true });
    let text = '';
    const args: string[] = [];
    const ids: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
        if (call.id) ids[call.index] = call.id;
        args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
      }
    }
    expect(text).toBe('Let me check.');
    expect(args).toEqual([ARGS, '{"order_id":"9"}']);
    // Same seed, model and request number: the same ids as the non-stream answer.
    expect(ids).toEqual(calls.map((c) => c.id));
  });

  it('no tools offered (or tool_choice "none"): no call, the text reply instead', async () => {
    fake = await fakeFor({ reply: { text: 'Just text.' }, rules: [{ then: { toolCalls: [LOOKUP] } }] });
    for (const extra of [{}, { tools: [] }, { tools: TOOLS, tool_choice: 'none' }]) {
      const body = JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER, ...extra })).body) as { choices: { finish_reason: string; message: Record<string, unknown> }[] };
      expect(body.choices[0]?.finish_reason).toBe('stop');
      expect(body.choices[0]?.message).not.toHaveProperty('tool_calls');
      expect(body.choices[0]?.message.content).toBe('Just text.');
    }
  });

  it('when: { after: toolResult } matches only the follow-up that carries the result', async () => {
    fake = await fakeFor({
      reply: { text: 'Your order shipped.', ttft: '0ms' },
      rules: [
        { when: { after: 'toolResult' }, then: { error: 'provider-down' } },
        { when: { after: 'user' }, then: { toolCalls: [LOOKUP] } },
      ],
    });
    const first = JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER, tools: TOOLS })).body) as { choices: { finish_reason: string }[] };
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect((await rawChat(fake, { model: MODEL_A, messages: TOOL_RESULT, tools: TOOLS })).status).toBe(502);
    expect(fake.journal().entries.map((e) => e.ruleText)).toEqual([
      'rule 1: for any model, answering the caller, reply with fake.reply, calling lookup_order.',
      "rule 0: for any model, answering a tool's result, answer 502 provider-down.",
    ]);
  });

  it('a disconnect inside a call: the start and some argument pieces, then the cut, never a finish', async () => {
    fake = await fakeFor({ rules: [{ then: { disconnect: { afterTokens: 3, toolCalls: [LOOKUP] } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true, tools: TOOLS });
    const { data } = sse(res.body);
    expect(data).toHaveLength(3);
    expect(res.body).not.toContain('finish_reason":"tool_calls');
    expect(JSON.parse(data[0] ?? '{}')).toMatchObject({ choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'lookup_order' } }] } }] });
  });

  it('a midStream error inside a call', async () => {
    fake = await fakeFor({ rules: [{ then: { midStream: { afterTokens: 2, error: 'provider-down', toolCalls: [LOOKUP] } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true, tools: TOOLS });
    const { data } = sse(res.body);
    expect(data).toHaveLength(3);
    expect(JSON.parse(data[2] ?? '{}')).toMatchObject({ error: { code: 502 }, choices: [{ finish_reason: 'error' }] });
  });

  it("a model declared without tools: OpenRouter's 404 when tools are offered, models[] falls back, /models says so", async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, catalog: [{ model: 'meta-llama/*', tools: false }] });
    const refused = await rawChat(fake, { model: MODEL_A, messages: USER, tools: TOOLS });
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toEqual({ error: { message: OBSERVED.noToolEndpoints, code: 404 }, user_id: expect.stringMatching(/^user_/) });
    // Without tools (or with the plugin's empty list) it answers.
    expect((await rawChat(fake, { model: MODEL_A, messages: USER, tools: [] })).status).toBe(200);
    const fellBack = JSON.parse((await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: USER, tools: TOOLS })).body) as { model: string };
    expect(fellBack.model).toBe(MODEL_B);
    const models = JSON.parse((await raw(`${fake.baseURL}/models`)).body) as { data: { id: string; supported_parameters: string[] }[] };
    expect(models.data.find((m) => m.id === MODEL_A)?.supported_parameters).not.toContain('tools');
    expect(models.data.find((m) => m.id === MODEL_B)?.supported_parameters).toContain('tools');
    // The refusal counted no request for the model: its first real request is still request 1.
    expect(fake.journal().entries.map((e) => e.outcome)).toEqual(['404', '200', '200', '200']);
  });

  it('the openai client sees the 404 as an APIError', async () => {
    fake = await fakeFor({ catalog: [{ model: '*', tools: false }] });
    const client = new OpenAI({ baseURL: fake.baseURL, apiKey: KEY, maxRetries: 0, logLevel: 'off' });
    await expect(client.chat.completions.create({ model: MODEL_A, messages: USER, tools: TOOLS as never })).rejects.toMatchObject({ status: 404 });
  });
});
