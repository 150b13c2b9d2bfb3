import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, MODEL_A, MODEL_B, openaiFor, raw, rawChat, sse, streamedText, USER } from './testing.js';

const TEXT = 'one two three four five six';
type Chunk = { choices: { finish_reason: string | null; native_finish_reason: string | null }[]; usage?: { completion_tokens: number } };

describe('length', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it.each([{ max_tokens: 3 }, { max_completion_tokens: 3 }, { max_tokens: 9, max_completion_tokens: 3 }])(
    '%o cuts the streamed reply at 3 tokens with finish_reason "length"',
    async (cap) => {
      fake = await fakeFor({ reply: { text: TEXT, ttft: '0ms' } });
      const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true, ...cap });
      const { data } = sse(res.body);
      expect(streamedText(data)).toBe('one two three');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
      expect(chunks.at(-2)?.choices[0]).toMatchObject({ finish_reason: 'length', native_finish_reason: 'length' });
      expect(chunks.at(-1)?.usage?.completion_tokens).toBe(3);
      expect(data.at(-1)).toBe('[DONE]');
    },
  );

  it('a cap above the reply changes nothing; not streamed, the same cut', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '0ms' } });
    const client = openaiFor(fake);
    const whole = await client.chat.completions.create({ model: MODEL_A, messages: USER, max_tokens: 100 });
    expect(whole.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: TEXT } });
    const cut = await client.chat.completions.create({ model: MODEL_A, messages: USER, max_tokens: 2 });
    expect(cut.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'one two' } });
    expect(cut.usage?.completion_tokens).toBe(2);
  });

  it('a cap inside a tool call: the call as far as it got, finish_reason "length"', async () => {
    fake = await fakeFor({ rules: [{ then: { toolCalls: [{ name: 'lookup_order', arguments: { order_id: '4417' } }] } }] });
    const tools = [{ type: 'function', function: { name: 'lookup_order', parameters: { type: 'object' } } }];
    const body = JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER, tools, max_tokens: 3 })).body) as {
      choices: { finish_reason: string; message: { tool_calls: { function: { arguments: string } }[] } }[];
    };
    expect(body.choices[0]?.finish_reason).toBe('length');
    expect(body.choices[0]?.message.tool_calls.map((c) => c.function.arguments)).toEqual(['{"order_']);
  });

  it("a prompt over the model's context_length: OpenRouter's 400, models[] falls back, /models advertises the window", async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, catalog: [{ model: MODEL_A, contextLength: 100 }] });
    // 404 characters: 101 tokens at four characters a token.
    const long = [{ role: 'user', content: 'x'.repeat(404) }];
    const refused = await rawChat(fake, { model: MODEL_A, messages: long, max_tokens: 10 });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        code: 400,
        message:
          "This endpoint's maximum context length is 100 tokens. However, you requested about 111 tokens (101 of text input, 10 in the output). Please reduce the length of either one, or use the \"middle-out\" transform to compress your prompt automatically.",
      },
      user_id: expect.stringMatching(/^user_/),
    });
    // The output asked for counts too: a prompt that fits alone does not fit with max_tokens.
    expect((await rawChat(fake, { model: MODEL_A, messages: [{ role: 'user', content: 'x'.repeat(360) }], max_tokens: 20 })).status).toBe(400);
    expect((await rawChat(fake, { model: MODEL_A, messages: [{ role: 'user', content: 'x'.repeat(360) }] })).status).toBe(200);
    expect(JSON.parse((await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: long })).body)).toMatchObject({ model: MODEL_B });
    const models = JSON.parse((await raw(`${fake.baseURL}/models`)).body) as { data: { id: string; context_length: number; supported_parameters: string[] }[] };
    expect(models.data.find((m) => m.id === MODEL_A)).toMatchObject({ context_length: 100, supported_parameters: expect.arrayContaining(['max_tokens', 'max_completion_tokens']) });
    expect(fake.journal().entries[0]?.ruleText).toBe(`the prompt does not fit ${MODEL_A}'s context window`);
  });

  it('a rule says otherwise: it decides, whatever the prompt size', async () => {
    fake = await fakeFor({ catalog: [{ model: '*', contextLength: 10 }], rules: [{ then: { text: 'fits anyway', ttft: '0ms' } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(res.status).toBe(200);
  });
});
