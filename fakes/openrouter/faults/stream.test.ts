import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../server.js';
import { drain, fakeFor, MODEL_A, openaiFor, rawChat, sse, streamedText, USER } from '../testing.js';
import { providerFor } from '../wire/catalog.js';

const TEXT = 'one two three four five six';

describe('faults inside a 200 answer', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('midStream: N tokens, then OpenRouter\'s error event, then the stream ends without [DONE]', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { midStream: { afterTokens: 2, error: 'provider-down' } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    const { data } = sse(res.body);
    expect(data).toHaveLength(3);
    expect(streamedText(data.slice(0, 2))).toBe('one two');
    const last = JSON.parse(data[2] ?? '{}') as Record<string, unknown>;
    expect(last).toEqual({
      id: expect.stringMatching(/^gen-/),
      provider: providerFor(MODEL_A),
      model: MODEL_A,
      object: 'chat.completion.chunk',
      created: expect.any(Number),
      error: { code: 502, message: 'Provider returned error', metadata: { provider_name: providerFor(MODEL_A), raw: expect.any(String) } },
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' }],
    });
    expect(res.body).not.toContain('[DONE]');
    expect(fake.journal().entries[0]).toMatchObject({ outcome: 'midStream' });
  });

  it('midStream: the openai client reads N chunks, then throws APIError carrying the error', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { midStream: { afterTokens: 1, error: 'rate-limit-per-minute' } } }] });
    const stream = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, stream: true });
    const { seen, error: err } = await drain(stream);
    expect(seen).toEqual(['one']);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).error).toMatchObject({ code: 429, message: 'Rate limit exceeded: free-models-per-min. ' });
  });

  it('midStream: a non-stream request gets 200 with the error as its body', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { midStream: { afterTokens: 2, error: 'timeout' } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ error: { message: 'Request timed out', code: 408 }, user_id: expect.stringMatching(/^user_/) });
  });

  it('malformed: N tokens, then a data line that is not JSON', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { malformed: { afterTokens: 2 } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    const { data } = sse(res.body);
    expect(data).toHaveLength(3);
    expect(streamedText(data.slice(0, 2))).toBe('one two');
    expect(() => JSON.parse(data[2] ?? '')).toThrow(SyntaxError);
    expect(data[2]).toMatch(/^\{"id":"gen-/);
    expect(res.body).not.toContain('[DONE]');
    expect(fake.journal().entries[0]).toMatchObject({ outcome: 'malformed' });
  });

  it('malformed: the openai client reads N chunks, then fails to parse', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { malformed: { afterTokens: 1 } } }] });
    const stream = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, stream: true });
    const { seen, error: err } = await drain(stream);
    expect(seen).toEqual(['one']);
    expect(err).toBeInstanceOf(SyntaxError);
  });

  it('malformed: a non-stream request gets a JSON body cut in half', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { malformed: { afterTokens: 3 } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBe(200);
    expect(res.body.startsWith('{"id":"gen-')).toBe(true);
    expect(() => JSON.parse(res.body)).toThrow(SyntaxError);
  });

  it('empty: role chunk, finish, usage with no completion tokens, [DONE], and no text', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: 'empty' }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    const { data } = sse(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: { delta: unknown; finish_reason: string | null }[]; usage?: unknown });
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { role: 'assistant', content: '' }, undefined]);
    expect(chunks[1]?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks[2]?.usage).toMatchObject({ completion_tokens: 0 });
    expect(fake.journal().entries[0]).toMatchObject({ outcome: 'empty' });
  });

  it('empty: the openai client finishes normally with empty text, streaming or not', async () => {
    fake = await fakeFor({ rules: [{ then: 'empty' }] });
    const client = openaiFor(fake);
    const whole = await client.chat.completions.create({ model: MODEL_A, messages: USER });
    expect(whole.choices[0]?.message.content).toBe('');
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: MODEL_A, messages: USER, stream: true })) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('');
  });

  it('a shaped reply overrides fake.reply\'s text, ttft and rate', async () => {
    fake = await fakeFor({ reply: { text: 'default', ttft: '100ms' }, rules: [{ then: { text: 'shaped reply here', ttft: '3s', tokensPerSecond: 10 } }] }, { speed: 50 });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(streamedText(sse(res.body).data)).toBe('shaped reply here');
    const entry = fake.journal().entries[0];
    // First token at 3s, the third 200ms later at 10 tokens/s: the stream lasts at least 3.2s of scenario time.
    expect(entry?.durationMs).toBeGreaterThanOrEqual(3200);
    expect(entry).toMatchObject({ outcome: '200', rule: 0 });
  });
});
