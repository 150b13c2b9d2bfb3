/**
 * One attempt through LiveKit's openai plugin and the official openai client, against the fake OpenRouter
 * failing in each way OpenRouter fails: what the chain sees and how it classifies it.
 */
import { llm } from '@livekit/agents';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ScaledClock } from '../../contract/clock.js';
import type { FailureClass } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { startFake, type RunningFake } from '../../fakes/openrouter/index.js';
import { closedPort } from '../testing/ports.js';
import { httpAttemptRunner, type AttemptResult } from './attempt.js';
import type { Backend } from './backends.js';

const SPEED = 10;
const KEY = 'sk-or-v1-attempt-test-key';
const deadlines = { headersMs: 5_000, firstTokenMs: 8_000, idleMs: 5_000 };

const FAULTS: Record<string, string> = {
  'm/ok': '{ text: "Paris is the capital of France.", ttft: 200ms, tokensPerSecond: 100 }',
  'm/rate-limit': '{ error: rate-limit-per-minute, retryAfter: 2s }',
  'm/daily': '{ error: rate-limit-per-day }',
  'm/upstream': '{ error: upstream-rate-limit }',
  'm/not-found': '{ error: no-endpoints }',
  'm/down': '{ error: provider-down }',
  'm/no-provider': '{ error: no-provider }',
  'm/bad-key': '{ error: invalid-key }',
  'm/credits': '{ error: insufficient-credits }',
  'm/bad-request': '{ error: bad-request }',
  'm/moderation': '{ error: moderation }',
  'm/timeout': '{ error: timeout }',
  'm/hang': 'hang',
  'm/stall': 'stall',
  'm/slow': '{ text: "Too late.", ttft: 20s }',
  'm/mid-before': '{ midStream: { afterTokens: 0, error: provider-down } }',
  'm/mid-after': '{ midStream: { afterTokens: 3, error: rate-limit-per-minute } }',
  'm/disconnect': '{ disconnect: { afterTokens: 2 } }',
  'm/reset': 'reset',
  'm/malformed': '{ malformed: { afterTokens: 0 } }',
  'm/empty': 'empty',
  'm/tool': '{ toolCalls: [{ name: lookup_order, arguments: { order_id: "4417" } }] }',
  // Two parallel calls cut inside the second: the plugin has handed the first on when the second started.
  'm/tool-cut-second': '{ disconnect: { afterTokens: 8, toolCalls: [{ name: lookup_order, arguments: { order_id: "1" } }, { name: lookup_order, arguments: { order_id: "2" } }] } }',
  // Cut inside the only call: nothing was handed on.
  'm/tool-cut-first': '{ disconnect: { afterTokens: 3, toolCalls: [{ name: lookup_order, arguments: { order_id: "4417" } }] } }',
};

const scenario = parseScenario(
  [
    'name: attempt-faults',
    'description: one model per fault kind',
    'agent: { models: [m/ok] }',
    'fake:',
    '  rules:',
    ...Object.entries(FAULTS).map(([model, then]) => `    - { when: { model: "${model}" }, then: ${then} }`),
  ].join('\n'),
  'attempt-faults.yaml',
);

let fake: RunningFake;
let clock: ScaledClock;
beforeAll(async () => {
  fake = await startFake({ scenario, speed: SPEED });
  clock = new ScaledClock(SPEED, fake.clock.origin);
});
afterAll(async () => fake?.close());

const runner = httpAttemptRunner({ apiKeyFor: () => KEY, headersFor: () => ({ 'X-Title': 'holdline-test' }) });

const tools = llm.toToolContext({
  lookup_order: llm.tool({ description: 'Looks an order up', parameters: z.object({ order_id: z.string() }), execute: async () => 'shipped' }),
});

async function attempt(
  model: string,
  baseURL = fake.baseURL,
  toolCtx?: llm.ToolContext,
  run = runner,
  fallbackModels?: string[],
): Promise<AttemptResult & { text: string; tookMs: number; calls: llm.FunctionCall[] }> {
  const chatCtx = llm.ChatContext.empty();
  chatCtx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  const backend: Backend = { id: `openrouter:${model}`, kind: 'openrouter', model, baseURL, deadlines, ...(fallbackModels && { fallbackModels }) };
  let text = '';
  const calls: llm.FunctionCall[] = [];
  const started = clock.now();
  const result = await run({
    backend,
    chatCtx,
    ...(toolCtx && { toolCtx }),
    clock,
    signal: new AbortController().signal,
    onChunk: (chunk) => {
      text += chunk.delta?.content ?? '';
      calls.push(...(chunk.delta?.toolCalls ?? []));
    },
  });
  return { ...result, text, calls, tookMs: clock.now() - started };
}

describe('what an attempt asks for', () => {
  it('sends max_tokens and temperature from the configuration (a temperature of 0 too), and the fake cuts at the cap', async () => {
    const bodies: Record<string, unknown>[] = [];
    const capture = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"busy","code":503}}');
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(capture.address() as AddressInfo).port}/api/v1`;
      const capped = httpAttemptRunner({ apiKeyFor: () => KEY, generation: { maxTokens: 3, temperature: 0 } });
      await attempt('m/ok', url, undefined, capped);
      expect(bodies[0]).toMatchObject({ max_tokens: 3, temperature: 0 });
      const r = await attempt('m/ok', fake.baseURL, undefined, capped);
      expect(r.text).toBe('Paris is the');
      expect(r.failure).toBeUndefined();
    } finally {
      capture.close();
    }
  });
});

describe("an attempt's usage", () => {
  it("reads OpenRouter's usage from the stream's last chunk: tokens, and the cost the fake's price list gives", async () => {
    const r = await attempt('m/ok');
    expect(r.failure).toBeUndefined();
    const usage = r.usage as NonNullable<AttemptResult['usage']>;
    expect(usage.promptTokens).toBeGreaterThan(0);
    expect(usage.completionTokens).toBeGreaterThan(0);
    // The fake prices a paid model at 0.1 USD per million prompt tokens and 0.4 per million completion tokens.
    expect(usage.costUsd).toBeCloseTo(usage.promptTokens * 1e-7 + usage.completionTokens * 4e-7, 12);
    // A generation that failed before any token sent no usage: nothing to book.
    expect((await attempt('m/down')).usage).toBeUndefined();
  });
});

describe('an attempt with tools', () => {
  it('a scripted call arrives as one complete FunctionCall, and the attempt says a call was handed on', async () => {
    const r = await attempt('m/tool', fake.baseURL, tools);
    expect(r.failure).toBeUndefined();
    expect(r.calls.map((c) => [c.name, c.args])).toEqual([['lookup_order', '{"order_id":"4417"}']]);
    expect(r.calls[0]?.callId).toMatch(/^call_/);
    expect(r).toMatchObject({ textSent: true, toolCallSent: true, text: '' });
  });

  it("tool_choice 'none' from the framework reaches the request: the model answers in words, no call", async () => {
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'What is the capital of France?' });
    const backend: Backend = { id: 'openrouter:m/tool', kind: 'openrouter', model: 'm/tool', baseURL: fake.baseURL, deadlines };
    let text = '';
    const calls: llm.FunctionCall[] = [];
    const r = await runner({
      backend,
      chatCtx,
      toolCtx: tools,
      toolChoice: 'none',
      clock,
      signal: new AbortController().signal,
      onChunk: (chunk) => {
        text += chunk.delta?.content ?? '';
        calls.push(...(chunk.delta?.toolCalls ?? []));
      },
    });
    expect(r.failure).toBeUndefined();
    expect(calls).toEqual([]);
    expect(r.toolCallSent).toBeFalsy();
    expect(text.length).toBeGreaterThan(0);
  });

  it('a cut inside the second of two calls: the first was handed on, the attempt failed after it', async () => {
    const r = await attempt('m/tool-cut-second', fake.baseURL, tools);
    expect(r.failure).toMatchObject({ class: 'connection' });
    expect(r.calls.map((c) => c.args)).toEqual(['{"order_id":"1"}']);
    expect(r.toolCallSent).toBe(true);
  });

  it('a cut inside the only call: nothing handed on, an ordinary failure before output', async () => {
    const r = await attempt('m/tool-cut-first', fake.baseURL, tools);
    expect(r.failure).toMatchObject({ class: 'connection' });
    expect(r.calls).toEqual([]);
    expect(r).toMatchObject({ textSent: false, toolCallSent: false });
  });
});

describe('an attempt through the openai plugin', () => {
  it('streams an answer', async () => {
    const r = await attempt('m/ok');
    expect(r.failure).toBeUndefined();
    expect(r.text).toBe('Paris is the capital of France.');
    expect(r.textSent).toBe(true);
    expect(r.status).toBe(200);
    expect(r.ttftMs).toBeGreaterThanOrEqual(150);
  });

  it("server-side fallback: one request carries models[], and OpenRouter's next model answers", async () => {
    const before = fake.journal().entries.length;
    const r = await attempt('m/down', fake.baseURL, undefined, runner, ['m/rate-limit', 'm/ok']);
    expect(r.failure).toBeUndefined();
    expect(r.text).toBe('Paris is the capital of France.');
    const entries = fake.journal().entries.slice(before).filter((e) => e.path.endsWith('/chat/completions'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ model: 'm/down', servedBy: 'm/ok' });
    // The response names the model that answered: the chain books the answer to it, not to the one asked.
    expect(r.servedBy).toBe('m/ok');
    expect(r.headersMs).toBeLessThanOrEqual(r.ttftMs as number);
  });

  it("the request's own fallbackModels replace the backend's: what the chain leaves out is not carried", async () => {
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'What is the capital of France?' });
    const backend: Backend = { id: 'openrouter:m/down', kind: 'openrouter', model: 'm/down', baseURL: fake.baseURL, deadlines, fallbackModels: ['m/ok'] };
    const ask = (fallbackModels?: string[]) =>
      runner({ backend, chatCtx, ...(fallbackModels && { fallbackModels }), clock, signal: new AbortController().signal, onChunk: () => {} });
    expect((await ask()).servedBy).toBe('m/ok');
    // Nothing left to carry: no models[] at all, so m/down's own 502 comes back.
    expect((await ask([])).failure).toMatchObject({ class: 'unavailable', status: 502 });
  });

  it('names the model asked when it answered itself', async () => {
    expect((await attempt('m/ok')).servedBy).toBe('m/ok');
  });

  it.each([
    ['m/rate-limit', 'rate-limit', 429],
    ['m/upstream', 'rate-limit', 429],
    ['m/not-found', 'unavailable', 404],
    ['m/down', 'unavailable', 502],
    ['m/no-provider', 'unavailable', 503],
    ['m/bad-key', 'account', 401],
    ['m/credits', 'account', 402],
    ['m/bad-request', 'bad-request', 400],
    ['m/moderation', 'bad-request', 403],
    ['m/timeout', 'timeout', 408],
  ] as [string, FailureClass, number][])('%s before any byte of answer: %s (%i)', async (model, cls, status) => {
    const r = await attempt(model);
    expect(r.failure).toMatchObject({ class: cls, status });
    expect(r.textSent).toBe(false);
  });

  it('a rate limit carries Retry-After and X-RateLimit-Reset for the cooldown', async () => {
    const r = await attempt('m/rate-limit');
    expect(r.failure?.retryAfterMs).toBe(2_000);
    expect(r.failure?.resetAtEpochMs).toBeGreaterThan(Date.now() - 1000);
  });

  it('a daily limit is recognised as one', async () => {
    const r = await attempt('m/daily');
    expect(r.failure).toMatchObject({ class: 'rate-limit', daily: true });
    // The reset is the next UTC midnight of scenario time, mapped to the wall clock: in the future.
    expect(clock.fromEpochMs(r.failure!.resetAtEpochMs!)).toBeGreaterThan(clock.now());
  });

  it('a hang before headers fails at the headers deadline', async () => {
    const r = await attempt('m/hang');
    expect(r.failure).toMatchObject({ class: 'timeout' });
    expect(r.tookMs).toBeGreaterThanOrEqual(deadlines.headersMs);
    expect(r.tookMs).toBeLessThan(deadlines.firstTokenMs);
  });

  it('keep-alive comments alone fail over at the first-token deadline', async () => {
    const r = await attempt('m/stall');
    expect(r.failure).toMatchObject({ class: 'stall', status: 200 });
    expect(r.tookMs).toBeGreaterThanOrEqual(deadlines.firstTokenMs);
    expect(r.tookMs).toBeLessThan(deadlines.firstTokenMs + 2_000);
  });

  it('a first token slower than the deadline is a stall', async () => {
    const r = await attempt('m/slow');
    expect(r.failure).toMatchObject({ class: 'stall' });
    expect(r.text).toBe('');
  });

  it('an error event inside the 200 stream, before any text: classified by its body, nothing sent', async () => {
    const r = await attempt('m/mid-before');
    expect(r.failure).toMatchObject({ class: 'unavailable', status: 200, code: '502' });
    expect(r.textSent).toBe(false);
  });

  it('an error event after some text: the text was sent, so the policy will not switch', async () => {
    const r = await attempt('m/mid-after');
    expect(r.failure).toMatchObject({ class: 'rate-limit', status: 200 });
    expect(r.textSent).toBe(true);
    expect(r.text.length).toBeGreaterThan(0);
  });

  it('a disconnect mid-stream is a connection failure after text', async () => {
    const r = await attempt('m/disconnect');
    expect(r.failure).toMatchObject({ class: 'connection' });
    expect(r.textSent).toBe(true);
  });

  it('a reset before any byte is a connection failure', async () => {
    const r = await attempt('m/reset');
    // The server took the connection and dropped it: up, not down.
    expect(r.failure).toMatchObject({ class: 'connection', refused: false });
    expect(r.textSent).toBe(false);
  });

  it('a data line that is not JSON is a malformed stream', async () => {
    const r = await attempt('m/malformed');
    expect(r.failure).toMatchObject({ class: 'malformed' });
  });

  it('a stream with no content is a failure, not a silent answer', async () => {
    const r = await attempt('m/empty');
    expect(r.failure).toMatchObject({ class: 'unavailable', code: 'empty' });
  });

  it('connection refused fails within milliseconds', async () => {
    const port = await closedPort();
    const r = await attempt('m/ok', `http://127.0.0.1:${port}/v1`);
    expect(r.failure).toMatchObject({ class: 'connection', refused: true });
    // Refused, not timed out: it ends before any deadline of ours (milliseconds are the benchmarks' business).
    expect(r.tookMs).toBeLessThan(deadlines.headersMs);
  });

  it('the journal shows what the fake saw; the key is in no error detail', async () => {
    const r = await attempt('m/bad-key');
    // Self-contained: the fake journaled this very request, with the status it sent.
    expect(fake.journal().entries.filter((e) => e.model === 'm/bad-key').map((e) => e.outcome)).toContain('401');
    expect(JSON.stringify(r)).not.toContain(KEY);
  });
});

