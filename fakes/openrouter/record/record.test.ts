/**
 * Record and replay, end to end: the recorder proxies a fake OpenRouter playing a scripted outage, the recording
 * becomes a scenario, a fresh fake plays that scenario, and the same requests get the same bytes at the same pace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../../contract/scenario/load.js';
import type { RunningFake } from '../server.js';
import { startFake } from '../server.js';
import { KEY, makeScenario, MODEL_A, MODEL_B, raw, USER } from '../testing.js';
import { startRecorder, type RunningRecorder } from './proxy.js';
import { thenFor, toScenarioYaml } from './to-scenario.js';

const TOOLS = [{ type: 'function', function: { name: 'lookup_order', parameters: { type: 'object' } } }];
const SEED = 5;

/** The requests, in order: each model's nth request meets the rule for it. */
const REQUESTS: Record<string, unknown>[] = [
  { model: MODEL_A, messages: USER, stream: true }, // 429 with Retry-After
  { model: MODEL_A, messages: USER, stream: true }, // a reply
  { model: MODEL_A, messages: USER, stream: true }, // a mid-stream server_error after 2 tokens
  { model: MODEL_B, messages: [{ role: 'user', content: 'Where is order 4417?' }], stream: true, tools: TOOLS }, // a tool call
  { model: MODEL_B, messages: USER, stream: true }, // cut after 3 tokens
  { model: MODEL_A, messages: USER }, // a non-stream reply
  { model: MODEL_B, messages: USER, stream: true }, // a failed finish (network_error) after 2 tokens
];

function upstreamScenario() {
  return makeScenario(
    {
      reply: { text: 'Paris is the capital of France.', ttft: '300ms', tokensPerSecond: 20 },
      rules: [
        { when: { model: MODEL_A, nth: 1 }, then: { error: 'rate-limit-per-minute', retryAfter: '2s' } },
        { when: { model: MODEL_A, nth: 3 }, then: { midStream: { afterTokens: 2, error: 'provider-down', code: 'server_error' } } },
        { when: { model: MODEL_B, nth: 1 }, then: { toolCalls: [{ name: 'lookup_order', arguments: { order_id: '4417' } }], ttft: '150ms' } },
        { when: { model: MODEL_B, nth: 2 }, then: { disconnect: { afterTokens: 3 } } },
        { when: { model: MODEL_B, nth: 3 }, then: { failedFinish: { afterTokens: 2, native: 'network_error' } } },
      ],
    },
    { seed: SEED },
  );
}

async function play(baseURL: string): Promise<{ status?: number; body: string; ms: number }[]> {
  const out: { status?: number; body: string; ms: number }[] = [];
  for (const body of REQUESTS) {
    const t0 = performance.now();
    const res = await raw(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    out.push({ status: res.status, body: res.body, ms: performance.now() - t0 });
  }
  return out;
}

describe('record and replay', () => {
  let upstream: RunningFake | undefined;
  let replay: RunningFake | undefined;
  let recorder: RunningRecorder | undefined;
  afterEach(async () => {
    await Promise.all([upstream?.close(), replay?.close(), recorder?.close()]);
  });

  it('recording the fake and replaying the recording gives the same bytes at the same pace', async () => {
    upstream = await startFake({ scenario: upstreamScenario(), speed: 1 });
    recorder = await startRecorder({ upstream: upstream.baseURL, keepContent: true });
    const original = await play(recorder.baseURL);
    const originalJournal = upstream.journal().entries;
    const yaml = toScenarioYaml(recorder.recorded(), { name: 'recorded', description: 'a recording', seed: SEED, keepContent: true });
    await recorder.close();

    // The key never reaches the recording.
    expect(yaml).not.toContain(KEY);
    expect(yaml).not.toMatch(/authorization/i);
    const scenario = parseScenario(yaml, 'recorded.yaml');
    replay = await startFake({ scenario, speed: 1 });
    const again = await play(replay.baseURL);

    expect(again.map((r) => r.status)).toEqual([429, 200, 200, 200, 200, 200, 200]);
    expect(again.map((r) => r.status)).toEqual(original.map((r) => r.status));
    for (const [i, r] of again.entries()) expect(r.body, `request ${i + 1}`).toBe(original[i]?.body);
    // The failed finish is replayed as one: the recording says so.
    expect(yaml).toMatch(/failedFinish:\n\s+afterTokens: 2\n\s+native: network_error\n/);

    // Timing: each request's duration on the fake's own clock, original against replay.
    const replayJournal = replay.journal().entries;
    const gaps = originalJournal.map((e, i) => Math.abs((replayJournal[i]?.durationMs ?? 0) - (e.durationMs ?? 0)));
    console.log(`[record] duration differences, replay vs original (ms): ${gaps.join(', ')}`);
    // The recorder sees each piece a little after the fake sent it (one loopback hop), so the replay is late by
    // about that much per request: within the fake's own timing error (tens of ms, bench:fake).
    for (const gap of gaps) expect(gap).toBeLessThan(100);
  });

  it('without --keep-content no words are kept: replies, arguments and turns are placeholders of the same size', async () => {
    upstream = await startFake({ scenario: upstreamScenario(), speed: 20 });
    recorder = await startRecorder({ upstream: upstream.baseURL });
    await play(recorder.baseURL);
    const yaml = toScenarioYaml(recorder.recorded(), { name: 'recorded', description: 'a recording', seed: SEED, keepContent: false });
    expect(yaml).not.toContain('Paris');
    expect(yaml).not.toContain('4417');
    expect(yaml).not.toContain('capital of France?');
    const scenario = parseScenario(yaml, 'recorded.yaml');
    expect(scenario.user.map((t) => t.say)).toEqual(['turn 1', 'turn 2', 'turn 3']);
    expect(scenario.fake.rules[1]?.then).toMatchObject({ kind: 'reply', text: 'withheld withheld withheld withheld withheld withheld' });
    expect(scenario.fake.rules[3]?.then).toMatchObject({ kind: 'reply', toolCalls: [{ name: 'lookup_order', arguments: '{}' }] });
  });
});

describe('what the recorder passes on and writes', () => {
  let upstream: RunningFake | undefined;
  let recorder: RunningRecorder | undefined;
  afterEach(async () => {
    await Promise.all([upstream?.close(), recorder?.close()]);
  });

  it("a client's Expect: 100-continue (curl, bodies over 1 KB) is answered, not recorded as a reset", async () => {
    upstream = await startFake({ scenario: upstreamScenario(), speed: 20 });
    recorder = await startRecorder({ upstream: upstream.baseURL });
    const body = JSON.stringify({ model: MODEL_A, messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    const res = await raw(`${recorder.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', Expect: '100-continue' },
      body,
    });
    expect(res.status).toBeDefined();
    expect(recorder.recorded()[0]?.ended).not.toBe('reset');
  });

  it('without --keep-content an error quoting the caller (moderation) keeps its code and message, not the words', () => {
    const base = { atMs: 0, model: MODEL_A, answering: 'user' as const, stream: true, headers: {}, pieces: [], totalMs: 100 };
    const error = { code: 403, message: 'Input was flagged', metadata: { reasons: ['harassment'], flagged_input: 'the caller said this', provider_name: 'X' } };
    expect(thenFor({ ...base, status: 403, ended: 'done', error }, false)).toMatchObject({
      status: 403,
      message: 'Input was flagged',
      metadata: { reasons: ['harassment'], flagged_input: 'withheld', provider_name: 'X' },
    });
    expect(thenFor({ ...base, status: 403, ended: 'done', error }, true)).toMatchObject({ metadata: { flagged_input: 'the caller said this' } });
  });
});

describe('a recording made into rules', () => {
  it('each way an exchange can end becomes the fault that ends it so', () => {
    const base = { atMs: 0, model: MODEL_A, answering: 'user' as const, stream: true, headers: {}, pieces: [], totalMs: 8000 };
    expect(thenFor({ ...base, ended: 'abandoned' }, true)).toBe('hang');
    expect(thenFor({ ...base, ended: 'reset' }, true)).toBe('reset');
    expect(thenFor({ ...base, status: 200, ended: 'cut', clientLeft: true }, true)).toBe('stall');
    expect(thenFor({ ...base, status: 200, ended: 'cut' }, true)).toEqual({ disconnect: { afterTokens: 0, text: '', ttft: '8000ms', tokensPerSecond: 40 } });
    expect(thenFor({ ...base, status: 200, ended: 'done' }, true)).toBe('empty');
    expect(thenFor({ ...base, status: 503, ended: 'done', headers: { 'retry-after': '3' }, error: { code: 503, message: 'busy' } }, true)).toEqual({
      status: 503,
      message: 'busy',
      headers: { 'Retry-After': '3' },
    });
  });
});
