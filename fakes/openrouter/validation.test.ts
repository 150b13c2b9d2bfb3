import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, KEY, MODEL_A, MODEL_B, raw, rawChat, USER } from './testing.js';

const USER_ID = expect.stringMatching(/^user_[0-9A-Za-z]{27}$/);

describe('requests OpenRouter would refuse', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it.each([
    ['no Authorization header', undefined],
    ['a non-bearer scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
    ['a bearer with spaces', 'Bearer two words'],
  ])('401 "No auth credentials found" for %s', async (_name, authorization) => {
    fake = await fakeFor();
    const res = await raw(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(authorization !== undefined && { Authorization: authorization }) },
      body: JSON.stringify({ model: MODEL_A, messages: USER }),
    });
    expect(res.status).toBe(401);
    expect(res.body).toBe('{"error":{"message":"No auth credentials found","code":401}}');
  });

  it.each([
    ['a body that is not JSON', '{"model": "x", messages: [}', 'Invalid JSON in request body'],
    ['no messages', JSON.stringify({ model: MODEL_A }), 'Input required: specify "prompt" or "messages"'],
    ['messages that are not a list', JSON.stringify({ model: MODEL_A, messages: 'hi' }), 'Input required: specify "prompt" or "messages"'],
    ['a JSON array', '[]', 'Input required: specify "prompt" or "messages"'],
    ['a message without a role', JSON.stringify({ model: MODEL_A, messages: [{ content: 'hi' }] }), 'messages[0].role: Invalid input: expected string, received undefined'],
    ['stream of the wrong type', JSON.stringify({ model: MODEL_A, messages: USER, stream: 'yes' }), 'stream: Invalid input: expected boolean, received string'],
    ['models of the wrong type', JSON.stringify({ models: MODEL_A, messages: USER }), 'models: Invalid input: expected array, received string'],
    ['four models in models[] (OpenRouter takes at most 3)', JSON.stringify({ model: MODEL_A, models: [MODEL_A, 'b/b', 'c/c', 'd/d'], messages: USER }), "'models' array must have 3 items or fewer."],
    ['temperature of the wrong type', JSON.stringify({ model: MODEL_A, messages: USER, temperature: 'hot' }), 'temperature: Invalid input: expected number, received string'],
  ])('400 in OpenRouter\'s shape for %s', async (_name, body, message) => {
    fake = await fakeFor();
    const res = await raw(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body });
    expect(res.status).toBe(400);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ error: { message, code: 400 }, user_id: USER_ID });
  });

  it('three models in models[] are taken (the most OpenRouter accepts): the first that serves answers', async () => {
    fake = await fakeFor({ reply: { text: 'ok' } });
    const res = await rawChat(fake, { model: MODEL_A, models: [MODEL_A, MODEL_B, 'x/not-served'], messages: USER });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ model: MODEL_A, choices: [{ message: { content: 'ok' } }] });
  });

  it('404 "No endpoints found for <model>." for a model the scenario does not serve', async () => {
    fake = await fakeFor();
    const res = await rawChat(fake, { model: 'openai/gpt-4o', messages: USER });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: { message: 'No endpoints found for openai/gpt-4o.', code: 404 }, user_id: USER_ID });
    expect(fake.journal().entries[0]).toMatchObject({ model: 'openai/gpt-4o', servedBy: null, outcome: '404', ruleText: 'the scenario serves no such model' });
  });

  it('413 in OpenRouter\'s shape for a body over the limit', async () => {
    fake = await fakeFor({}, { bodyLimitBytes: 1024 });
    const res = await rawChat(fake, { model: MODEL_A, messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: { message: 'Request body too large: the limit is 1024 bytes', code: 413 } });
  });

  it('413 too for a body over the limit sent without a Content-Length (chunked)', async () => {
    fake = await fakeFor({}, { bodyLimitBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(JSON.stringify({ model: MODEL_A, messages: USER }).slice(0, 10));
      req.write('x'.repeat(2000));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('a gzip-compressed body is read (by express, not the plain fast path) and answered like a plain one', async () => {
    fake = await fakeFor({ reply: { text: 'ok' } });
    const body = gzipSync(JSON.stringify({ model: MODEL_A, messages: USER }));
    const res = await fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('ok');
  });

  it('404 "Not Found" for unknown API paths', async () => {
    fake = await fakeFor();
    const res = await raw(`${fake.baseURL}/embeddings`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: '{}' });
    expect(res.status).toBe(404);
    expect(res.body).toBe('{"error":{"message":"Not Found","code":404}}');
  });

  it('never puts the key in the journal', async () => {
    fake = await fakeFor({ reply: { text: 'ok' } });
    await rawChat(fake, { model: MODEL_A, messages: USER });
    await raw(`${fake.baseURL}/key`, { headers: { Authorization: `Bearer ${KEY}` } });
    const journal = await raw(`${fake.url}/__fake/journal`);
    expect(journal.body).not.toContain(KEY);
    expect(journal.body).not.toContain('Bearer');
  });
});

describe('the other endpoints', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('GET /models lists fake.models, the agent\'s chain and literal models named by rules, not globs', async () => {
    fake = await fakeFor({
      models: ['mistralai/mistral-7b-instruct'],
      rules: [
        { when: { model: 'google/gemma-2-9b-it:free' }, then: 'hang' },
        { when: { model: 'qwen/*' }, then: 'reset' },
      ],
    });
    const res = await raw(`${fake.baseURL}/models`);
    const { data } = JSON.parse(res.body) as { data: { id: string }[] };
    expect(data.map((m) => m.id)).toEqual(['mistralai/mistral-7b-instruct', MODEL_A, MODEL_B, 'google/gemma-2-9b-it:free']);
    expect(data[1]).toMatchObject({
      id: MODEL_A,
      canonical_slug: 'meta-llama/llama-3.3-70b-instruct',
      name: 'Meta Llama: Llama 3.3 70b Instruct (free)',
      context_length: expect.any(Number),
      pricing: { prompt: '0', completion: '0' },
      supported_parameters: expect.arrayContaining(['tools', 'tool_choice']),
      architecture: { modality: 'text->text' },
      top_provider: { context_length: expect.any(Number) },
    });
  });

  it('a model named only by a rule is served', async () => {
    fake = await fakeFor({ rules: [{ when: { model: 'google/gemma-2-9b-it:free' }, then: { text: 'from a rule' } }] });
    const res = await rawChat(fake, { model: 'google/gemma-2-9b-it:free', messages: USER });
    expect(JSON.parse(res.body)).toMatchObject({ choices: [{ message: { content: 'from a rule' } }] });
  });

  it.each(['/key', '/auth/key'])('GET %s describes the key, and needs one', async (path) => {
    fake = await fakeFor();
    const ok = await raw(`${fake.baseURL}${path}`, { headers: { Authorization: `Bearer ${KEY}` } });
    const { data } = JSON.parse(ok.body) as { data: Record<string, unknown> };
    // Every field OpenRouter's API reference lists for GET /key.
    expect(Object.keys(data).sort()).toEqual(
      [
        'byok_usage', 'byok_usage_daily', 'byok_usage_monthly', 'byok_usage_weekly', 'creator_user_id', 'expires_at', 'free_model_daily_requests',
        'include_byok_in_limit', 'is_free_tier', 'is_management_key', 'is_provisioning_key', 'label', 'limit', 'limit_remaining', 'limit_reset',
        'rate_limit', 'usage', 'usage_daily', 'usage_monthly', 'usage_weekly',
      ].sort(),
    );
    expect(data).toMatchObject({ limit: null, usage: 0, usage_daily: 0, creator_user_id: expect.stringMatching(/^user_/), rate_limit: { requests: expect.any(Number) } });
    expect(ok.body).not.toContain(KEY);
    const refused = await raw(`${fake.baseURL}${path}`);
    expect(refused.status).toBe(401);
  });

  it('GET /credits reports credits and the cost of what was generated', async () => {
    fake = await fakeFor({ models: ['openai/gpt-4o-mini'], reply: { text: 'one two three' } });
    await rawChat(fake, { model: 'openai/gpt-4o-mini', messages: USER });
    const res = await raw(`${fake.baseURL}/credits`, { headers: { Authorization: `Bearer ${KEY}` } });
    const { data } = JSON.parse(res.body) as { data: { total_credits: number; total_usage: number } };
    expect(data.total_credits).toBe(10);
    expect(data.total_usage).toBeGreaterThan(0);
  });

  it('a request without a model is journaled with its status', async () => {
    fake = await fakeFor();
    await raw(`${fake.baseURL}/models`);
    expect(fake.journal().entries).toEqual([
      expect.objectContaining({ seq: 1, method: 'GET', path: '/api/v1/models', model: null, outcome: '200', ttfbMs: expect.any(Number) }),
    ]);
  });
});

describe('binding', () => {
  it('binds 127.0.0.1 by default', async () => {
    const fake = await fakeFor();
    try {
      expect(fake.host).toBe('127.0.0.1');
      expect(fake.baseURL).toBe(`http://127.0.0.1:${fake.port}/api/v1`);
    } finally {
      await fake.close();
    }
  });

  it('serves the agent\'s first model when a request names none (OpenRouter uses the account default)', async () => {
    const fake = await fakeFor({ reply: { text: 'default model' } });
    try {
      const res = await rawChat(fake, { messages: USER });
      expect(JSON.parse(res.body)).toMatchObject({ model: MODEL_A });
      expect(fake.journal().entries[0]).toMatchObject({ model: null, servedBy: MODEL_A });
    } finally {
      await fake.close();
    }
  });
});
