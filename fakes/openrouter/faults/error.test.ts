import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../server.js';
import { fakeFor, MODEL_A, openaiFor, rawChat, USER } from '../testing.js';
import { providerFor } from '../wire/catalog.js';

const USER_ID = expect.stringMatching(/^user_/);
const PROVIDER = providerFor(MODEL_A);

/** Every preset as the client sees it: status, the exact error object, whether user_id is present. */
const EXPECTED = [
  ['rate-limit-per-minute', 429, { message: 'Rate limit exceeded: free-models-per-min. ', code: 429, metadata: { headers: expect.any(Object) } }],
  [
    'rate-limit-per-day',
    429,
    { message: 'Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day', code: 429, metadata: { headers: expect.any(Object) } },
  ],
  [
    'upstream-rate-limit',
    429,
    {
      message: 'Provider returned error',
      code: 429,
      metadata: {
        raw: `${MODEL_A} is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations`,
        provider_name: PROVIDER,
      },
    },
  ],
  ['no-endpoints', 404, { message: `No endpoints found for ${MODEL_A}.`, code: 404 }],
  ['insufficient-credits', 402, { message: 'Insufficient credits. Add more using https://openrouter.ai/settings/credits', code: 402 }],
  ['invalid-key', 401, { message: 'User not found.', code: 401 }],
  [
    'moderation',
    403,
    {
      message: `${MODEL_A} requires moderation on ${PROVIDER}. Your input was flagged for "harassment".`,
      code: 403,
      metadata: { reasons: ['harassment'], flagged_input: expect.any(String), provider_name: PROVIDER, model_slug: MODEL_A },
    },
  ],
  ['timeout', 408, { message: 'Request timed out', code: 408 }],
  ['provider-down', 502, { message: 'Provider returned error', code: 502, metadata: { provider_name: PROVIDER, raw: expect.any(String) } }],
  ['no-provider', 503, { message: 'No allowed providers are available for the selected model.', code: 503 }],
  ['bad-request', 400, { message: expect.stringContaining('maximum context length'), code: 400 }],
] as const;

describe('error: <preset>', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it.each(EXPECTED)('%s answers %i with OpenRouter\'s body, streaming or not', async (preset, status, error) => {
    fake = await fakeFor({ rules: [{ then: { error: preset } }] });
    for (const stream of [false, true]) {
      const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream });
      expect(res.status).toBe(status);
      expect(res.headers?.['content-type']).toBe('application/json');
      const body = JSON.parse(res.body) as Record<string, unknown>;
      expect(body).toEqual(preset === 'invalid-key' ? { error } : { error, user_id: USER_ID });
      expect(Object.keys(body.error as object).slice(0, 2)).toEqual(['message', 'code']);
      expect(res.headers?.['retry-after']).toBeUndefined();
    }
    expect(fake.journal().entries.map((e) => e.outcome)).toEqual([`${status}`, `${status}`]);
  });

  it('the free-models-per-min 429 carries X-RateLimit-* headers matching its metadata, reset on the next minute', async () => {
    fake = await fakeFor({ rules: [{ then: { error: 'rate-limit-per-minute' } }] }, { speed: 1 });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    const { metadata } = (JSON.parse(res.body) as { error: { metadata: { headers: Record<string, string> } } }).error;
    expect(metadata.headers).toEqual({ 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': expect.stringMatching(/^\d{13}$/) });
    expect(res.headers?.['x-ratelimit-limit']).toBe('20');
    expect(res.headers?.['x-ratelimit-remaining']).toBe('0');
    expect(res.headers?.['x-ratelimit-reset']).toBe(metadata.headers['X-RateLimit-Reset']);
    const { originEpochMs, entries } = fake.journal();
    const arrival = originEpochMs + (entries[0]?.at ?? 0);
    expect(Number(metadata.headers['X-RateLimit-Reset'])).toBe(Math.floor(arrival / 60_000) * 60_000 + 60_000);
  });

  it('the free-models-per-day 429 resets at the next UTC midnight', async () => {
    fake = await fakeFor({ rules: [{ then: { error: 'rate-limit-per-day' } }] }, { speed: 1 });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    const { originEpochMs, entries } = fake.journal();
    const arrival = new Date(originEpochMs + (entries[0]?.at ?? 0));
    const midnight = Date.UTC(arrival.getUTCFullYear(), arrival.getUTCMonth(), arrival.getUTCDate() + 1);
    expect(res.headers?.['x-ratelimit-reset']).toBe(String(midnight));
    expect(res.headers?.['x-ratelimit-limit']).toBe('50');
  });

  it('fake.startsAt pins the calendar: 30 s before midnight, the daily limit resets 30 scenario seconds in', async () => {
    fake = await fakeFor({ startsAt: '2026-01-15T23:59:30Z', rules: [{ then: { error: 'rate-limit-per-day' } }] }, { speed: 10 });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    // Scenario 30 s at speed 10 is 3 s of wall time after the origin, whatever the wall clock's date.
    expect(res.headers?.['x-ratelimit-reset']).toBe(String(fake.journal().originEpochMs + 3_000));
  });

  it('retryAfter adds Retry-After in whole seconds, rounded up', async () => {
    fake = await fakeFor({ rules: [{ then: { error: 'provider-down', retryAfter: '1500ms' } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBe(502);
    expect(res.headers?.['retry-after']).toBe('2');
  });

  it('the openai client throws APIError with the status, body and headers', async () => {
    fake = await fakeFor({ rules: [{ then: { error: 'rate-limit-per-minute', retryAfter: '2s' } }] });
    const err = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    const apiError = err as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.error).toMatchObject({ message: 'Rate limit exceeded: free-models-per-min. ', code: 429 });
    expect(apiError.headers?.get('retry-after')).toBe('2');
  });
});

describe('status: N', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('answers the status with the reason phrase when no message is given', async () => {
    fake = await fakeFor({ rules: [{ then: { status: 500 } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: { message: 'Internal Server Error', code: 500 }, user_id: USER_ID });
  });

  it('carries message, metadata, headers and Retry-After', async () => {
    fake = await fakeFor({
      rules: [{ then: { status: 529, message: 'Overloaded', metadata: { error_type: 'overloaded' }, headers: { 'X-Custom': 'yes' }, retryAfter: '3s' } }],
    });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(res.status).toBe(529);
    expect(JSON.parse(res.body)).toEqual({ error: { message: 'Overloaded', code: 529, metadata: { error_type: 'overloaded' } }, user_id: USER_ID });
    expect(res.headers?.['x-custom']).toBe('yes');
    expect(res.headers?.['retry-after']).toBe('3');
  });

  it('a scripted Retry-After is sent as written, and retryAfter replaces it however it is cased (never two)', async () => {
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    fake = await fakeFor({ rules: [{ when: { nth: 1 }, then: { status: 503, headers: { 'retry-after': date } } }, { then: { status: 503, headers: { 'retry-after': date }, retryAfter: '3s' } }] });
    expect((await rawChat(fake, { model: MODEL_A, messages: USER })).headers?.['retry-after']).toBe(date);
    const both = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(both.rawHeaders?.filter((_, i) => i % 2 === 0).filter((name) => name.toLowerCase() === 'retry-after')).toEqual(['Retry-After']);
    expect(both.headers?.['retry-after']).toBe('3');
  });
});
