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
      // error_type as OpenRouter tags a provider error that interrupts generation (its errors docs' typed codes).
      error: { code: 502, message: 'Provider returned error', metadata: { provider_name: providerFor(MODEL_A), raw: expect.any(String), error_type: 'provider_unavailable' } },
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

  it.each([
    ['error', 'error'],
    ['network_error', 'stop'],
  ] as const)('failedFinish (%s): N tokens, then a finish in failure with no error event, [DONE] and no usage chunk', async (native, finish) => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { failedFinish: { afterTokens: 2, native } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(res.status).toBe(200);
    const { data } = sse(res.body);
    expect(data).toHaveLength(4);
    expect(streamedText(data.slice(0, 2))).toBe('one two');
    const last = JSON.parse(data[2] ?? '{}') as Record<string, unknown>;
    expect(last).not.toHaveProperty('error');
    expect(last).not.toHaveProperty('usage');
    expect(last.choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: finish, native_finish_reason: native, logprobs: null }]);
    expect(data[3]).toBe('[DONE]');
    expect(fake.journal().entries[0]).toMatchObject({ outcome: 'failedFinish' });
  });

  it('failedFinish: the openai client reads N chunks and no error (only the finish says it failed)', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { failedFinish: { afterTokens: 1 } } }] });
    const stream = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, stream: true });
    const { seen, error: err } = await drain(stream);
    expect(seen.join('')).toBe('one');
    expect(err).toBeUndefined();
  });

  it('failedFinish: a non-stream request gets the text so far with the failed finish', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { failedFinish: { afterTokens: 3, native: 'network_error' } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ choices: [{ finish_reason: 'stop', native_finish_reason: 'network_error', message: { content: 'one two three' } }] });
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
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { role: 'assistant', content: '' }, { role: 'assistant', content: '' }]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, 'stop', 'stop']);
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

describe('mid-stream error variants', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  const lastEvent = async (then: Record<string, unknown>) => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '0ms' }, rules: [{ then: { midStream: then } }] });
    const { data } = sse((await rawChat(fake, { model: MODEL_A, messages: USER, stream: true })).body);
    return JSON.parse(data.at(-1) ?? '{}') as { error: Record<string, unknown>; choices: unknown[] };
  };

  it('a string code: server_error with "Provider disconnected", as OpenRouter\'s docs show it', async () => {
    const last = await lastEvent({ afterTokens: 1, error: 'provider-down', code: 'server_error' });
    expect(last.error).toEqual({ code: 'server_error', message: 'Provider disconnected', metadata: { provider_name: providerFor(MODEL_A), raw: 'Service Unavailable' } });
    expect(last.choices).toEqual([{ index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' }]);
  });

  it('metadata.error_type and limit_source, and a message of its own', async () => {
    const last = await lastEvent({ afterTokens: 0, error: 'upstream-rate-limit', code: 'rate_limit_exceeded', errorType: 'rate_limit_exceeded', limitSource: 'provider', message: 'slow down' });
    expect(last.error).toMatchObject({ code: 'rate_limit_exceeded', message: 'slow down', metadata: { error_type: 'rate_limit_exceeded', limit_source: 'provider', provider_name: providerFor(MODEL_A) } });
  });

  it.each([
    ['rate-limit-per-minute', 429, 'rate_limit_exceeded'],
    ['provider-down', 502, 'provider_unavailable'],
    ['no-provider', 503, 'provider_overloaded'],
  ] as const)("without a scripted code, metadata or errorType, %s carries its typed error_type (OpenRouter's errors docs)", async (error, code, type) => {
    expect((await lastEvent({ afterTokens: 0, error })).error).toMatchObject({ code, metadata: { error_type: type } });
  });

  it.each([
    // No clean match in the docs' table (their timeout is a 504): none.
    ['timeout', {}, { code: 408, message: 'Request timed out' }],
    // A scripted metadata is the error's own (a recording's): nothing added.
    ['provider-down', { metadata: { raw: 'x' } }, { code: 502, message: 'Provider returned error', metadata: { raw: 'x' } }],
  ] as const)('%s with %o: no error_type added', async (error, extra, expected) => {
    expect((await lastEvent({ afterTokens: 0, error, ...extra })).error).toEqual(expected);
  });

  it('the openai client throws APIError carrying the string code', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { midStream: { afterTokens: 1, error: 'provider-down', code: 'server_error' } } }] });
    const { seen, error: err } = await drain(await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, stream: true }));
    expect(seen).toEqual(['one']);
    expect((err as APIError).error).toMatchObject({ code: 'server_error' });
  });

  it('a midStream may set its own ttft', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '0ms' }, rules: [{ then: { midStream: { afterTokens: 1, error: 'provider-down', ttft: '2s' } } }] }, { speed: 50 });
    await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(fake.journal().entries[0]?.durationMs).toBeGreaterThanOrEqual(2000);
    expect(fake.journal().entries[0]?.ruleText).toBe('rule 0: for any model, after a first token at 2s, stream 1 token(s), then a mid-stream provider-down error (code 502) and end the stream.');
  });

  it('not streamed: 200 with the error, string code and metadata, as the body', async () => {
    fake = await fakeFor({ reply: { text: TEXT, ttft: '0ms' }, rules: [{ then: { midStream: { afterTokens: 1, error: 'timeout', code: 'server_error', errorType: 'provider_unavailable' } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBe(200);
    expect(res.body.startsWith('{"error":{"message":"Provider disconnected","code":"server_error"')).toBe(true);
    expect(JSON.parse(res.body)).toMatchObject({ error: { metadata: { error_type: 'provider_unavailable' } } });
  });
});
