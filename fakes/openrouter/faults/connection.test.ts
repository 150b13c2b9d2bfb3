import { once } from 'node:events';
import { APIConnectionError, APIUserAbortError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../server.js';
import { drain, fakeFor, MODEL_A, MODEL_B, nextClosed, openaiFor, rawChat, sse, streamedText, USER } from '../testing.js';

const TEXT = 'one two three four five six';

describe('faults that break the connection', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('hang: no status line, no byte, until the client gives up', async () => {
    fake = await fakeFor({ rules: [{ when: { model: MODEL_A }, then: 'hang' }] });
    const abort = new AbortController();
    let answered = false;
    const hung = rawChat(fake, { model: MODEL_A, messages: USER, stream: true }, { signal: abort.signal }).then((r) => {
      answered = r.status !== undefined || r.body !== '';
      return r;
    });
    await once(fake.events, 'decided');
    // Another request, started after the hang was decided, is answered in full while the hang still has nothing.
    const other = await rawChat(fake, { model: MODEL_B, messages: USER });
    expect(other.status).toBe(200);
    expect(answered).toBe(false);

    const closed = nextClosed(fake, (e) => e.model === MODEL_A);
    abort.abort();
    const res = await hung;
    expect(res.status).toBeUndefined();
    expect(res.body).toBe('');
    expect(await closed).toMatchObject({ outcome: 'hang', ttfbMs: null, durationMs: expect.any(Number) });
  });

  it('hang: the openai client sees nothing until it aborts', async () => {
    fake = await fakeFor({ rules: [{ then: 'hang' }] });
    const abort = new AbortController();
    const pending = openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER }, { signal: abort.signal }).catch((e: unknown) => e);
    await once(fake.events, 'decided');
    abort.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
  });

  it('stall: 200 and SSE headers, then only keep-alive comments, at stall.every', async () => {
    fake = await fakeFor({ rules: [{ then: { stall: { every: '500ms' } } }] }, { speed: 50 });
    const closed = nextClosed(fake);
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true }, { stopWhen: (body) => sse(body).comments.length >= 4 });
    expect(res.status).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/event-stream');
    expect(res.body).toBe(': OPENROUTER PROCESSING\n\n'.repeat(4));
    const entry = await closed;
    expect(entry).toMatchObject({ outcome: 'stall', ttfbMs: expect.any(Number) });
    // Four comments at 500ms intervals: the client hung up at about 2s of scenario time.
    expect(entry.durationMs).toBeGreaterThanOrEqual(2000);
  });

  it('stall: defaults to fake.keepAliveEvery', async () => {
    fake = await fakeFor({ keepAliveEvery: '2s', rules: [{ then: 'stall' }] }, { speed: 50 });
    const closed = nextClosed(fake);
    await rawChat(fake, { model: MODEL_A, messages: USER, stream: true }, { stopWhen: (body) => sse(body).comments.length >= 2 });
    expect((await closed).durationMs).toBeGreaterThanOrEqual(4000);
  });

  it('stall: a non-stream request gets its status line and a body that never comes', async () => {
    fake = await fakeFor({ rules: [{ when: { model: MODEL_A }, then: 'stall' }] });
    const abort = new AbortController();
    const pending = rawChat(fake, { model: MODEL_A, messages: USER }, { signal: abort.signal });
    const closed = nextClosed(fake, (e) => e.model === MODEL_A);
    await once(fake.events, 'decided');
    const other = await rawChat(fake, { model: MODEL_B, messages: USER });
    expect(other.status).toBe(200);
    abort.abort();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(res.body).toBe('');
    expect(await closed).toMatchObject({ outcome: 'stall' });
  });

  it('reset: the connection is reset before any byte', async () => {
    fake = await fakeFor({ rules: [{ then: 'reset' }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(res.status).toBeUndefined();
    expect(res.error?.code).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(fake.journal().entries[0]).toMatchObject({ outcome: 'reset', ttfbMs: null });
  });

  it('reset: the openai client throws APIConnectionError', async () => {
    fake = await fakeFor({ rules: [{ then: 'reset' }] });
    const err = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
  });

  it('disconnect: N tokens, then the socket closes without [DONE]', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { disconnect: { afterTokens: 3 } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.error?.code).toBe('ECONNRESET');
    const { data } = sse(res.body);
    expect(streamedText(data)).toBe('one two three');
    expect(data).toHaveLength(3);
    expect(res.body).not.toContain('[DONE]');
    expect(fake.journal().entries[0]).toMatchObject({ outcome: 'disconnect' });
  });

  it('disconnect: the openai client reads N chunks, then its iterator throws', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { disconnect: { afterTokens: 2 } } }] });
    const stream = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, stream: true });
    const { seen, error: err } = await drain(stream);
    expect(seen).toEqual(['one', ' two']);
    expect(err).toBeInstanceOf(Error);
  });

  it('disconnect: a non-stream request sees the socket close before any byte', async () => {
    fake = await fakeFor({ reply: { text: TEXT }, rules: [{ then: { disconnect: { afterTokens: 2 } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(res.status).toBeUndefined();
    expect(res.error?.message).toMatch(/socket hang up|ECONNRESET/);
  });

  it('disconnect: more tokens than the text has are made up from seeded words', async () => {
    fake = await fakeFor({ reply: { text: 'short' }, rules: [{ then: { disconnect: { afterTokens: 5 } } }] });
    const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    const { data } = sse(res.body);
    expect(data).toHaveLength(5);
    expect(streamedText(data)).toMatch(/^short \S+ \S+ \S+ \S+$/);
  });
});
