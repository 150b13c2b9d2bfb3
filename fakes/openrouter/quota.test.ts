/**
 * The free-model quota through HTTP, as OpenRouter's clients meet it: the official `openai` client against the fake,
 * and raw HTTP where every byte of the body matters.
 */
import { createHash } from 'node:crypto';
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, KEY, MODEL_A, MODEL_B, openaiFor, raw, rawChat, USER } from './testing.js';

const PAID = 'openai/gpt-4o-mini';
const OTHER_KEY = 'sk-or-v1-another-key-9876543210';
/** Noon on the calendar: no minute or day boundary falls inside a test that runs at speed 1 for under a minute. */
const NOON = '2026-01-15T12:00:00Z';
/** Answers at once, so a test's requests are fast and its wall time far below the windows it tests. */
const INSTANT = { text: 'Paris.', ttft: '0ms', tokensPerSecond: 1_000_000 };

async function refusal(promise: Promise<unknown>): Promise<APIError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  return err as APIError;
}

const sha = (key: string) => `key_${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

describe("the fake's free-model quota, per key", () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it("the 21st :free request of a minute gets OpenRouter's 429: its body and X-RateLimit headers, reset at the next calendar minute", async () => {
    // Speed 1, scenario time 0 at 12:00:00 on the calendar: the window ends 60 s of wall time after the start.
    fake = await fakeFor({ startsAt: NOON, reply: INSTANT, models: [PAID] }, { speed: 1 });
    const client = openaiFor(fake);
    // Twenty across two free models: one count for the key, across all free models.
    for (let i = 0; i < 20; i++) await client.chat.completions.create({ model: i % 2 ? MODEL_A : MODEL_B, messages: USER });
    // A paid model is not limited.
    await client.chat.completions.create({ model: PAID, messages: USER });

    const reset = String(fake.clock.origin + 60_000);
    const err = await refusal(client.chat.completions.create({ model: MODEL_A, messages: USER }));
    expect(err.status).toBe(429);
    expect(err.error).toEqual({
      message: 'Rate limit exceeded: free-models-per-min. ',
      code: 429,
      metadata: { headers: { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset } },
    });
    expect([err.headers?.get('x-ratelimit-limit'), err.headers?.get('x-ratelimit-remaining'), err.headers?.get('x-ratelimit-reset')]).toEqual(['20', '0', reset]);

    // The same, streamed: refused before the stream (a 429, not a 200 that fails), with the account's user_id.
    const streamed = await rawChat(fake, { model: MODEL_B, messages: USER, stream: true });
    expect(streamed.status).toBe(429);
    expect(JSON.parse(streamed.body)).toEqual({
      error: { message: 'Rate limit exceeded: free-models-per-min. ', code: 429, metadata: { headers: { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset } } },
      user_id: expect.stringMatching(/^user_/),
    });

    // Another key is another account.
    const other = new OpenAI({ baseURL: fake.baseURL, apiKey: OTHER_KEY, maxRetries: 0, logLevel: 'off' });
    await expect(other.chat.completions.create({ model: MODEL_A, messages: USER })).resolves.toMatchObject({ model: MODEL_A });

    const entries = fake.journal().entries;
    expect(entries.map((e) => e.outcome)).toEqual([...Array(21).fill('200'), '429', '429', '200']);
    expect(entries.map((e) => e.key)).toEqual([...Array(23).fill(sha(KEY)), sha(OTHER_KEY)]);
    expect(entries[21]?.ruleText).toBe("the key's free-model quota is spent (20 requests this minute): 429 until the next minute");
    expect(JSON.stringify(fake.journal())).not.toContain(KEY);
  });

  it('a key without 10 credits bought gets 50 a day: the 51st is the daily 429, reset at the midnight of the scenario calendar, and /key says so', async () => {
    // Each answer takes 4 s of scenario time, so a sequence of requests never reaches 20 in a minute; at speed 100
    // the 51 take about 2 s of wall time. Scenario time 0 is midnight, so the day ends 864 s of wall time later.
    fake = await fakeFor({ startsAt: '2026-01-15T00:00:00Z', reply: { text: 'Paris.', ttft: '4s' }, account: { credits: 0 } }, { speed: 100 });
    const client = openaiFor(fake);
    for (let i = 0; i < 50; i++) await client.chat.completions.create({ model: MODEL_A, messages: USER });
    const err = await refusal(client.chat.completions.create({ model: MODEL_B, messages: USER }));
    const reset = String(fake.clock.origin + 86_400_000 / 100);
    expect(err.status).toBe(429);
    expect(err.error).toEqual({
      message: 'Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day',
      code: 429,
      metadata: { headers: { 'X-RateLimit-Limit': '50', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset } },
    });
    expect(err.headers?.get('x-ratelimit-reset')).toBe(reset);

    const key = await raw(`${fake.baseURL}/key`, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(JSON.parse(key.body)).toMatchObject({
      data: { is_free_tier: true, limit: null, usage: 0, usage_daily: 0, free_model_daily_requests: { limit: 50, remaining: 0, used: 50 }, rate_limit: { requests: 20, interval: '1m' } },
    });
    const credits = await raw(`${fake.baseURL}/credits`, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(JSON.parse(credits.body)).toEqual({ data: { total_credits: 0, total_usage: 0 } });
    // Another key has spent nothing.
    const otherKey = await raw(`${fake.baseURL}/key`, { headers: { Authorization: `Bearer ${OTHER_KEY}` } });
    expect(JSON.parse(otherKey.body)).toMatchObject({ data: { free_model_daily_requests: { limit: 50, remaining: 50, used: 0 } } });
  });

  it('/key and /credits report each key’s own usage, by default an account that bought 10 credits', async () => {
    fake = await fakeFor({ startsAt: NOON, reply: INSTANT, models: [PAID] }, { speed: 1 });
    await openaiFor(fake).chat.completions.create({ model: PAID, messages: USER });
    await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER });
    const key = JSON.parse((await raw(`${fake.baseURL}/key`, { headers: { Authorization: `Bearer ${KEY}` } })).body) as { data: Record<string, unknown> };
    expect(key.data).toMatchObject({ is_free_tier: false, free_model_daily_requests: { limit: 1000, remaining: 999, used: 1 } });
    expect(key.data.usage).toBeGreaterThan(0);
    expect(key.data.usage_daily).toBe(key.data.usage);
    const credits = JSON.parse((await raw(`${fake.baseURL}/credits`, { headers: { Authorization: `Bearer ${KEY}` } })).body) as { data: Record<string, unknown> };
    expect(credits.data).toEqual({ total_credits: 10, total_usage: key.data.usage });
    const other = JSON.parse((await raw(`${fake.baseURL}/credits`, { headers: { Authorization: `Bearer ${OTHER_KEY}` } })).body) as { data: Record<string, unknown> };
    expect(other.data).toEqual({ total_credits: 10, total_usage: 0 });
  });

  it("a rule's scripted error wins over a spent quota, a rule's reply does not; models[] falls back from the quota's 429 to a paid model", async () => {
    fake = await fakeFor(
      {
        startsAt: NOON,
        reply: INSTANT,
        models: [PAID],
        rules: [
          { when: { model: MODEL_A, nth: 1 }, then: { error: 'provider-down' } },
          { when: { model: MODEL_B, nth: 21 }, then: { text: 'from the rule', ttft: '10ms' } },
        ],
      },
      { speed: 1 },
    );
    const client = openaiFor(fake);
    for (let i = 0; i < 20; i++) await client.chat.completions.create({ model: MODEL_B, messages: USER });
    // The quota is spent: MODEL_A's first request is a rule's scripted error, and the rule answers (a storm stays a storm).
    expect((await refusal(client.chat.completions.create({ model: MODEL_A, messages: USER }))).status).toBe(502);
    // MODEL_B's 21st is a rule's reply: OpenRouter's limiter refuses it before any provider could answer.
    const spent = await refusal(client.chat.completions.create({ model: MODEL_B, messages: USER }));
    expect(spent.status).toBe(429);
    expect(spent.message).toContain('free-models-per-min');
    // MODEL_A's second: no rule applies; the quota refuses it, and models[] moves on to the paid model.
    const fellBack = await client.chat.completions.create({ model: MODEL_A, messages: USER, models: [MODEL_A, PAID] } as never);
    expect(fellBack.model).toBe(PAID);
    expect(fake.journal().entries.at(-1)?.ruleText).toBe(
      `${MODEL_A}: the key's free-model quota is spent (20 requests this minute): 429 until the next minute (fell back) -> ${PAID}: no rule matched: reply with fake.reply.`,
    );
  });

  it('account.quota false: :free requests are counted but never refused', async () => {
    fake = await fakeFor({ startsAt: NOON, reply: INSTANT, account: { quota: false } }, { speed: 1 });
    const client = openaiFor(fake);
    for (let i = 0; i < 25; i++) await client.chat.completions.create({ model: MODEL_A, messages: USER });
    const key = JSON.parse((await raw(`${fake.baseURL}/key`, { headers: { Authorization: `Bearer ${KEY}` } })).body) as { data: Record<string, unknown> };
    expect(key.data).toMatchObject({ free_model_daily_requests: { limit: 1000, remaining: 975, used: 25 } });
    expect(fake.journal().entries.every((e) => e.outcome === '200')).toBe(true);
  });

  it('POST /__fake/reset starts every key over', async () => {
    fake = await fakeFor({ startsAt: NOON, reply: INSTANT }, { speed: 1 });
    const client = openaiFor(fake);
    for (let i = 0; i < 20; i++) await client.chat.completions.create({ model: MODEL_A, messages: USER });
    expect((await refusal(client.chat.completions.create({ model: MODEL_A, messages: USER }))).status).toBe(429);
    fake.reset();
    await expect(client.chat.completions.create({ model: MODEL_A, messages: USER })).resolves.toMatchObject({ model: MODEL_A });
  });
});
