/** The helpers other tests use to play a slow or a dead local model. */
import OpenAI, { APIConnectionError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLlama } from '../ensure.js';
import { FALLBACK_SENTENCE } from '../server/grammar.js';
import { isAlive } from '../../kit/processes.js';
import { downBaseURL, isConnectionRefused } from './down.js';
import { startSlowLlamaServer } from './slow-server.js';
import type { LlamaServer } from '../server/start.js';

const DELAY_MS = 1500;
const messages = [{ role: 'user' as const, content: 'hello?' }];
const client = (baseURL: string): OpenAI => new OpenAI({ baseURL, apiKey: 'not-needed', maxRetries: 0, timeout: 30_000 });
let slow: LlamaServer;

beforeAll(async () => {
  await ensureLlama();
  slow = await startSlowLlamaServer({ firstByteDelayMs: DELAY_MS });
}, 20 * 60_000);

afterAll(async () => {
  await slow?.stop();
});

describe('startSlowLlamaServer', () => {
  it('holds back the first streamed token, then streams the sentence unchanged', async () => {
    const started = performance.now();
    const stream = await client(slow.baseURL).chat.completions.create({ model: 'holdline-tiny', messages, stream: true });
    let firstTokenMs: number | undefined;
    let text = '';
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content ?? '';
      if (piece && firstTokenMs === undefined) firstTokenMs = performance.now() - started;
      text += piece;
    }
    expect(firstTokenMs).toBeGreaterThanOrEqual(DELAY_MS - 5); // timers may fire a millisecond early
    expect(text).toBe(FALLBACK_SENTENCE);
  });

  it('delays non-streamed completions too', async () => {
    const started = performance.now();
    const completion = await client(slow.baseURL).chat.completions.create({ model: 'holdline-tiny', messages });
    expect(performance.now() - started).toBeGreaterThanOrEqual(DELAY_MS - 5);
    expect(completion.choices[0]?.message.content).toBe(FALLBACK_SENTENCE);
  });

  it('answers /health at once', async () => {
    const started = performance.now();
    const response = await fetch(`${slow.url}/health`);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(performance.now() - started).toBeLessThan(DELAY_MS);
  });

  it('stop() stops the proxy and the server', async () => {
    const other = await startSlowLlamaServer({ firstByteDelayMs: 10 });
    await other.stop();
    expect(isAlive(other.pid)).toBe(false);
    await expect(fetch(`${other.url}/health`)).rejects.toSatisfy(isConnectionRefused);
  });
});

describe('a local model that is down', () => {
  it('refuses the connection, which the openai client reports as APIConnectionError', async () => {
    const baseURL = await downBaseURL();
    expect(baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const error = await client(baseURL)
      .chat.completions.create({ model: 'holdline-tiny', messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toBe('Connection error.');
    expect(isConnectionRefused(error)).toBe(true);
  });

  it('is not confused with other errors', () => {
    expect(isConnectionRefused(new Error('timeout'))).toBe(false);
    expect(isConnectionRefused(undefined)).toBe(false);
  });
});
