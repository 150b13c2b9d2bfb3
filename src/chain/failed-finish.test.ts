/**
 * A stream that OpenRouter ends with a failed finish and no error event (attempt.ts, `failedFinish`): the provider
 * died mid-answer and only the finish says so. First from a server of the test's own that writes exactly the chunks
 * the threads describe (the attempt through LiveKit's openai plugin and the official client as always), then the whole
 * chain against the fake's `failedFinish` fault: what the caller hears.
 */
import { llm } from '@livekit/agents';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../contract/clock.js';
import type { RunningFake } from '../../fakes/openrouter/index.js';
import { chainOnFake, sources, turn } from '../testing/chain-on-fake.js';
import { httpAttemptRunner, type AttemptResult } from './attempt.js';

const MODEL = 'stealth/model';
let server: Server | undefined;
afterEach(async () => {
  const closing = server;
  server = undefined;
  if (!closing) return;
  // The client keeps its connection alive: close it too, or close() waits for it.
  closing.closeAllConnections();
  await new Promise<void>((resolve) => closing.close(() => resolve()));
});

/** A chunk as OpenRouter streams it: one choice with this delta and finish. */
function chunk(delta: Record<string, unknown>, finish: string | null = null, native: string | null = finish, extra: Record<string, unknown> = {}) {
  return { id: 'gen-1-x', provider: 'Stealth', model: MODEL, object: 'chat.completion.chunk', created: 1, choices: [{ index: 0, delta, finish_reason: finish, native_finish_reason: native }], ...extra };
}

/** Serves one stream of these chunks (then `[DONE]`) to every chat request. */
async function streaming(chunks: unknown[]): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const c of chunks) res.write(`data: ${JSON.stringify(c)}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api/v1`;
}

async function attempt(baseURL: string): Promise<AttemptResult & { text: string }> {
  const chatCtx = llm.ChatContext.empty();
  chatCtx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  let text = '';
  const result = await httpAttemptRunner({ apiKeyFor: () => 'sk-or-v1-failed-finish' })({
    backend: { id: `openrouter:${MODEL}`, kind: 'openrouter', model: MODEL, baseURL, deadlines: { headersMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 } },
    chatCtx,
    clock: new ScaledClock(1),
    signal: new AbortController().signal,
    onChunk: (c) => (text += c.delta?.content ?? ''),
  });
  return { ...result, text };
}

const USAGE = { usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } };

describe('a stream that ends with a failed finish and no error event', () => {
  it('finish_reason "error" after part of the answer is a failure after text, not a whole answer', async () => {
    const r = await attempt(await streaming([chunk({ role: 'assistant', content: 'Paris' }), chunk({ content: ' is' }), chunk({ content: '' }, 'error')]));
    expect(r.text).toBe('Paris is');
    expect(r.textSent).toBe(true);
    expect(r.failure).toMatchObject({ class: 'unavailable', status: 200, code: 'error' });
  });

  it('an upstream network_error told only by native_finish_reason (finish_reason "stop", no usage) is a failure too', async () => {
    const r = await attempt(await streaming([chunk({ role: 'assistant', content: 'Paris' }), chunk({ content: '' }, 'stop', 'network_error')]));
    expect(r.textSent).toBe(true);
    expect(r.failure).toMatchObject({ class: 'unavailable', code: 'network_error' });
  });

  it('a whole answer (finish "stop", then the usage chunk repeating it) is still a success', async () => {
    const r = await attempt(await streaming([chunk({ role: 'assistant', content: 'Paris.' }), chunk({ content: '' }, 'stop'), chunk({ content: '' }, 'stop', 'stop', USAGE)]));
    expect(r.text).toBe('Paris.');
    expect(r.failure).toBeUndefined();
  });
});

describe("the fake's failedFinish through the chain", () => {
  const A = 'meta-llama/llama-3.3-70b-instruct:free';
  const B = 'qwen/qwen-2.5-72b-instruct:free';
  let fake: RunningFake | undefined;
  afterEach(async () => fake?.close());

  it('before any text: the next model answers, and the failed model cools', async () => {
    const on = await chainOnFake([`{ when: { model: "${A}" }, then: { failedFinish: { afterTokens: 0 } } }`], [A, B]);
    fake = on.fake;
    expect(sources(await turn(on.chain, 'What is the capital of France?'))).toEqual(new Set([`openrouter:${B}`]));
    expect(on.seen.filter((e) => e.type === 'attempt').map((e) => [e.model, e.outcome])).toEqual([
      [A, 'unavailable'],
      [B, 'ok'],
    ]);
  });

  it('after part of the answer (network_error told as "stop"): the apology ends the turn, no second model', async () => {
    const on = await chainOnFake([`{ when: { model: "${A}" }, then: { failedFinish: { afterTokens: 2, native: network_error } } }`], [A, B]);
    fake = on.fake;
    const heard = await turn(on.chain, 'What is the capital of France?');
    expect(sources(heard)).toEqual(new Set([`openrouter:${A}`, 'apology']));
    expect(on.requests()).toEqual([[A, A]]);
    expect(on.seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'apology' });
  });
});
