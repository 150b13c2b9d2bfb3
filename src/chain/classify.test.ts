import { describe, expect, it } from 'vitest';
import { classify, FAILURE_DETAIL_MAX_CHARS, parseReset, parseRetryAfter } from './classify.js';

const now = Date.UTC(2026, 10, 23, 12, 0, 0);
const statusError = (statusCode: number, body: unknown) => ({ name: 'APIStatusError', message: 'x', statusCode, body });
/** An error answered before the stream, with this status, body and headers. */
const refused = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  classify({ status, headers, error: statusError(status, body), gotContent: false }, now);

describe('classify: from the status and the body', () => {
  it('429 with Retry-After and the limit headers in the body metadata', () => {
    const failure = classify(
      {
        status: 429,
        headers: { 'retry-after': '2' },
        error: statusError(429, {
          code: 429,
          message: 'Rate limit exceeded: free-models-per-min. ',
          metadata: { headers: { 'X-RateLimit-Reset': String(now + 60_000) } },
        }),
        gotContent: false,
      },
      now,
    );
    expect(failure).toMatchObject({ class: 'rate-limit', status: 429, code: '429', retryAfterMs: 2_000, resetAtEpochMs: now + 60_000, keyWide: true });
    expect(failure.daily).toBeUndefined();
  });

  it("free-models-per-min and free-models-per-day are the key's limits (keyWide); an upstream 429 is not", () => {
    const of = (message: string) => classify({ status: 429, error: statusError(429, { code: 429, message }), gotContent: false }, now);
    expect(of('Rate limit exceeded: free-models-per-min. ').keyWide).toBe(true);
    expect(of('Provider returned error').keyWide).toBeUndefined();
    expect(of('Rate limit exceeded: free-models-per-day. ')).toMatchObject({ daily: true, keyWide: true });
    expect(of('Rate limit exceeded: free-models-per-day-high-balance.')).toMatchObject({ daily: true, keyWide: true });
  });

  it("a whole page as the error's message (a proxy's 502 HTML) is clipped in the detail, and still classified by every word", () => {
    const page = `<html>${'<p>upstream error</p>'.repeat(15_000)} free-models-per-day </html>`; // 300 KB
    const failure = refused(429, { message: page });
    expect(failure.detail.length).toBeLessThan(FAILURE_DETAIL_MAX_CHARS + 40);
    expect(failure.detail).toMatch(/^429: <html><p>upstream error.*\.\.\.\(\+\d+ characters\)$/);
    expect(failure.daily).toBe(true); // the words past the clip still count
  });

  it('a daily limit is told by its message', () => {
    const failure = classify(
      { status: 429, error: statusError(429, { code: 429, message: 'Rate limit exceeded: free-models-per-day. ' }), gotContent: false },
      now,
    );
    expect(failure).toMatchObject({ class: 'rate-limit', daily: true });
  });

  it("a daily 429's X-RateLimit-Limit (header or body metadata) is the key's daily limit; a malformed one is ignored", () => {
    const daily = (headers: Record<string, string>, metadata?: Record<string, string>) =>
      classify(
        {
          status: 429,
          headers,
          error: statusError(429, { code: 429, message: 'Rate limit exceeded: free-models-per-day-high-balance.', ...(metadata && { metadata: { headers: metadata } }) }),
          gotContent: false,
        },
        now,
      );
    expect(daily({ 'x-ratelimit-limit': '1000' })).toMatchObject({ daily: true, limit: 1000 });
    expect(daily({}, { 'X-RateLimit-Limit': '50' })).toMatchObject({ daily: true, limit: 50 });
    expect(daily({ 'x-ratelimit-limit': 'lots' }).limit).toBeUndefined();
    expect(daily({ 'x-ratelimit-limit': '0' }).limit).toBeUndefined();
  });

  it.each([
    [404, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [401, 'account'],
    [402, 'account'],
    [400, 'bad-request'],
    [403, 'bad-request'],
    [408, 'timeout'],
  ] as const)('status %i is %s', (status, cls) => {
    expect(classify({ status, error: statusError(status, { code: status, message: 'm' }), gotContent: false }, now).class).toBe(cls);
  });

  it("a 402 for a full in-flight spending budget is a wait with a told end (OpenRouter's limits page); other 402s are the account's", () => {
    const refused402 = (message: string, reason: string, source: string) =>
      refused(402, { code: 402, message, metadata: { reason, limit_source: source } }, { 'retry-after': '3' });
    const inFlight = refused402(
      'This request would exceed your available credits given your current in-flight requests. Retry after in-flight requests settle, or add credits.',
      'in_flight_budget_exhausted',
      'openrouter_in_flight_budget',
    );
    expect(inFlight).toMatchObject({ class: 'rate-limit', status: 402, retryAfterMs: 3_000 });
    expect(inFlight.daily).toBeUndefined();
    expect(inFlight.keyWide).toBeUndefined();
    expect(refused402('m', 'weight_exceeds_budget', 'openrouter_credits').class).toBe('account');
  });

  it("a 403 for the key's own spending cap is the account's (every model of the key gets it), other 403s a bad request", () => {
    const of = (message: string, metadata?: Record<string, string>) => refused(403, { code: 403, message, ...(metadata && { metadata }) }).class;
    expect(of('Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys')).toBe('account');
    expect(of('Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys')).toBe('account');
    expect(of('m', { limit_source: 'openrouter_key_limit' })).toBe('account');
    expect(of('Request blocked: prompt injection patterns detected')).toBe('bad-request');
    expect(of('x/y requires moderation on P. Your input was flagged for "harassment".')).toBe('bad-request');
  });

  it("OpenRouter's 400 for a model id it does not know names the model; other 400s do not", () => {
    const of = (message: string) => refused(400, { code: 400, message });
    expect(of('minimax-m2.5:free is not a valid model ID')).toMatchObject({ class: 'bad-request', invalidModel: 'minimax-m2.5:free' });
    expect(of('google/gemini-2.0-pro-exp-02-05:free is not a valid model ID').invalidModel).toBe('google/gemini-2.0-pro-exp-02-05:free');
    expect(of("This endpoint's maximum context length is 100 tokens.").invalidModel).toBeUndefined();
    expect(refused(404, { code: 404, message: 'x/y is not a valid model ID' }).invalidModel).toBeUndefined();
  });

  it('an error event inside a 200 stream is classified by the code in its body', () => {
    // The openai SDK raises these without a status; the plugin reports statusCode -1.
    const rateLimited = classify({ status: 200, error: statusError(-1, { code: 429, message: 'Rate limit exceeded' }), gotContent: true }, now);
    expect(rateLimited).toMatchObject({ class: 'rate-limit', status: 200, code: '429' });
    const down = classify(
      { status: 200, error: statusError(-1, { code: 502, message: 'Provider disconnected', metadata: { error_type: 'provider_unavailable' } }), gotContent: false },
      now,
    );
    expect(down).toMatchObject({ class: 'unavailable', status: 200, code: '502' });
    const stringCode = classify({ status: 200, error: statusError(-1, { code: 'server_error', message: 'Provider disconnected' }), gotContent: false }, now);
    expect(stringCode).toMatchObject({ class: 'unavailable', code: 'server_error' });
  });

  it.each([
    ['server_error', undefined, 'unavailable'],
    ['rate_limit_exceeded', undefined, 'rate-limit'],
    ['invalid_prompt', undefined, 'bad-request'],
    ['some_new_code', undefined, 'unavailable'],
    [502, 'rate_limit_exceeded', 'rate-limit'],
    ['server_error', 'rate_limit_exceeded', 'rate-limit'],
    [429, 'provider_unavailable', 'unavailable'],
  ] as const)('in a 200 stream, code %s with error_type %s is %s', (code, errorType, cls) => {
    const body = { code, message: 'm', ...(errorType && { metadata: { error_type: errorType } }) };
    expect(classify({ status: 200, error: statusError(-1, body), gotContent: false }, now)).toMatchObject({ class: cls, status: 200, code: String(code) });
  });

  it('limit_source is kept in the detail; before the stream error_type rate_limit_exceeded still means a rate limit, and provider_unavailable does not turn a 400 into an outage', () => {
    const limited = classify(
      { status: 200, error: statusError(-1, { code: 429, message: 'Rate limit exceeded', metadata: { error_type: 'rate_limit_exceeded', limit_source: 'provider' } }), gotContent: false },
      now,
    );
    expect(limited).toMatchObject({ class: 'rate-limit', detail: '429: Rate limit exceeded (limit set by provider)' });
    const before = classify({ status: 503, error: statusError(503, { code: 503, message: 'm', metadata: { error_type: 'rate_limit_exceeded' } }), gotContent: false }, now);
    expect(before.class).toBe('rate-limit');
    expect(classify({ status: 400, error: statusError(400, { code: 400, message: 'm', metadata: { error_type: 'provider_unavailable' } }), gotContent: false }, now).class).toBe('bad-request');
  });

  it("the fake's request-dependent refusals: no tool endpoints and no allowed provider are unavailable (404), a prompt over the context window a bad request", () => {
    const refusal = (status: number, message: string) => classify({ status, error: statusError(status, { code: status, message }), gotContent: false }, now);
    expect(refusal(404, 'No endpoints found that support tool use. To learn more about provider routing, visit: https://openrouter.ai/docs/guides/routing/provider-selection')).toMatchObject({ class: 'unavailable', status: 404 });
    expect(refusal(404, 'No allowed providers are available for the selected model.')).toMatchObject({ class: 'unavailable', status: 404 });
    expect(refusal(400, "This endpoint's maximum context length is 100 tokens. However, you requested about 111 tokens")).toMatchObject({ class: 'bad-request', status: 400 });
  });

  it('our deadlines: no headers is a timeout, no first token or an idle stream is a stall', () => {
    expect(classify({ deadline: 'headers', gotContent: false }, now).class).toBe('timeout');
    expect(classify({ status: 200, deadline: 'first-token', gotContent: false }, now).class).toBe('stall');
    expect(classify({ status: 200, deadline: 'idle', gotContent: true }, now).class).toBe('stall');
  });

  it('connection failures, malformed streams and empty answers', () => {
    expect(classify({ error: { name: 'APIConnectionError', message: 'Connection error.' }, gotContent: false }, now).class).toBe('connection');
    expect(classify({ status: 200, error: { name: 'APIConnectionError', message: 'terminated' }, gotContent: true }, now).class).toBe('connection');
    expect(
      classify({ status: 200, error: { name: 'APIConnectionError', message: `Unexpected token 'o', "not json" is not valid JSON` }, gotContent: true }, now)
        .class,
    ).toBe('malformed');
    expect(classify({ status: 200, gotContent: false }, now)).toMatchObject({ class: 'unavailable', code: 'empty' });
    expect(classify({ error: { name: 'APITimeoutError', message: 'Request timed out.' }, gotContent: false }, now).class).toBe('timeout');
  });
});

describe('header parsing', () => {
  it('Retry-After: seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
  it('X-RateLimit-Reset: epoch ms, or epoch seconds', () => {
    expect(parseReset(String(now))).toBe(now);
    expect(parseReset(String(now / 1000))).toBe(now);
    expect(parseReset('tomorrow')).toBeUndefined();
  });
});
