import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, KEY, MODEL_A, MODEL_B, openaiFor, raw, rawChat, sse, USER } from './testing.js';

const TEXT = 'Paris is the capital of France.';

describe('chat completions: the success path', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('answers non-stream requests with OpenRouter\'s completion shape', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '200ms', tokensPerSecond: 40 } });
    const res = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER }).withResponse();
    const body = res.data as unknown as Record<string, unknown>;
    expect(body).toMatchObject({
      id: expect.stringMatching(/^gen-\d{10}-[0-9A-Za-z]{20}$/),
      provider: expect.any(String),
      model: MODEL_A,
      object: 'chat.completion',
      created: expect.any(Number),
      choices: [{ index: 0, finish_reason: 'stop', native_finish_reason: 'stop', message: { role: 'assistant', content: TEXT } }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 6, total_tokens: expect.any(Number), cost: 0 },
    });
    expect(res.response.headers.get('x-generation-id')).toBe(body.id);
    // Every field of a real OpenRouter usage (as quoted in BerriAI/litellm#11626), none more.
    expect(Object.keys(body.usage as object).sort()).toEqual(
      ['completion_tokens', 'completion_tokens_details', 'cost', 'cost_details', 'is_byok', 'prompt_tokens', 'prompt_tokens_details', 'total_tokens'],
    );
    expect(body.usage).toMatchObject({ is_byok: false, cost_details: { upstream_inference_cost: null }, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('streams a role chunk first, one chunk per word, finish, usage repeating the finish, then [DONE]', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '200ms', tokensPerSecond: 40 } });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/event-stream');
    const { data } = sse(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    interface Chunk {
      provider: string;
      choices: { delta: { role?: string; content?: string } }[];
    }
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['Paris', ' is', ' the', ' capital', ' of', ' France.', '', '']);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks[1]?.choices[0]?.delta.role).toBeUndefined();
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ finish_reason: 'stop', native_finish_reason: 'stop' });
    // OpenRouter's usage chunk is no OpenAI empty `choices`: one content-free choice repeating the finish (its docs).
    expect(chunks.at(-1)).toMatchObject({ usage: { completion_tokens: 6, cost: 0 } });
    expect(chunks.at(-1)?.choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop', native_finish_reason: 'stop', logprobs: null }]);
    for (const c of chunks) {
      expect(c).toMatchObject({ id: res.headers?.['x-generation-id'], object: 'chat.completion.chunk', model: MODEL_A, provider: chunks[0]?.provider });
    }
  });

  it('sends : OPENROUTER PROCESSING every keepAliveEvery while the first token is due', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '3500ms' }, keepAliveEvery: '1s' }, { speed: 50 });
    const { blocks } = sse((await rawChat(fake, { model: MODEL_A, messages: USER, stream: true })).body);
    // Comments at 1s, 2s and 3s of scenario time, all before the first token at 3.5s.
    expect(blocks.slice(0, 4)).toEqual([': OPENROUTER PROCESSING', ': OPENROUTER PROCESSING', ': OPENROUTER PROCESSING', expect.stringMatching(/^data: /)]);
    expect(blocks.filter((b) => b.startsWith(':'))).toHaveLength(3);
  });

  it('works through the openai client\'s stream, usage chunk included', async () => {
    fake = await fakeFor({ reply: { text: TEXT } });
    const stream = await openaiFor(fake).chat.completions.create({ model: MODEL_B, messages: USER, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage ??= chunk.usage ?? undefined;
    }
    expect(text).toBe(TEXT);
    expect(usage).toMatchObject({ completion_tokens: 6 });
  });

  it('accepts OpenRouter\'s extra request fields', async () => {
    fake = await fakeFor({ reply: { text: TEXT } });
    const res = await rawChat(fake, {
      model: MODEL_A,
      models: [MODEL_A, MODEL_B],
      messages: [{ role: 'system', content: 'Be brief.' }, ...USER],
      provider: { order: ['DeepInfra'], allow_fallbacks: true, sort: 'latency' },
      transforms: ['middle-out'],
      route: 'fallback',
      usage: { include: true },
      stream_options: { include_usage: true },
      tools: [],
      temperature: 0.7,
      max_tokens: 100,
      some_future_field: { anything: true },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ model: MODEL_A, choices: [{ message: { content: TEXT } }] });
  });

  it('writes a seeded English reply when the scenario gives no text', async () => {
    fake = await fakeFor({});
    const out = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER });
    expect(out.choices[0]?.message.content).toMatch(/^[A-Z][^]{10,}/);
  });

  it('reports its generations on GET /generation, and 404s ids it did not generate', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '300ms' } });
    const streamed = sse((await rawChat(fake, { model: MODEL_A, messages: USER, stream: true })).body);
    const id = (JSON.parse(streamed.data[0] ?? '{}') as { id: string }).id;
    const auth = { Authorization: `Bearer ${KEY}` };
    const found = await raw(`${fake.baseURL}/generation?id=${id}`, { headers: auth });
    expect(found.status).toBe(200);
    expect(JSON.parse(found.body)).toMatchObject({
      data: { id, model: MODEL_A, streamed: true, cancelled: false, finish_reason: 'stop', tokens_completion: 6, latency: 300, total_cost: 0 },
    });
    const missing = await raw(`${fake.baseURL}/generation?id=gen-0-nope`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: { message: 'Generation gen-0-nope not found', code: 404 }, user_id: expect.stringMatching(/^user_/) });
  });
});
