/**
 * Rehearsal mode over HTTP, against the fake OpenRouter failing every model: the hold once, backoff inside
 * the window, then an answer or the apology, and the next turn answered, all visible on GET /events.
 */
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { subscribeEvents } from '../../contract/event-stream.js';
import type { UtteranceEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { startFake, type RunningFake } from '../../fakes/openrouter/index.js';
import { closedPort } from '../testing/ports.js';
import { MAX_SUBSCRIBERS } from './event-history.js';
import { BODY_LIMIT_BYTES } from './http-errors.js';
import { startRehearsal, type RehearsalAgent } from './server.js';

const SPEED = 10;
const KEY = 'sk-or-v1-rehearsal-secret-0123456789';
const A = 'meta-llama/llama-3.3-70b-instruct:free';
const B = 'qwen/qwen-2.5-72b-instruct:free';

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function rig(rules: string, env: Record<string, string> = {}) {
  const scenario = parseScenario(
    [
      'name: rehearsal-test',
      'description: rehearsal over HTTP',
      `agent: { models: ["${A}", "${B}"] }`,
      'fake:',
      '  reply: { text: "Paris is the capital of France.", ttft: 200ms, tokensPerSecond: 40 }',
      '  rules:',
      rules,
    ].join('\n'),
    'rehearsal-test.yaml',
  );
  const fake: RunningFake = await startFake({ scenario, speed: SPEED });
  running.push(fake);
  let output = '';
  const capture = new Writable({
    write(chunk, _enc, done) {
      output += String(chunk);
      done();
    },
  });
  const agent: RehearsalAgent = await startRehearsal({
    speed: SPEED,
    log: pino({ level: 'debug' }, capture),
    env: { OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: fake.baseURL, LLM_MODEL: `${A},${B}`, LOCAL_LLM_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`, ...env },
  });
  running.push(agent);
  // One origin for both clocks: scenario time 0 is the same wall instant in the fake and the agent.
  const origin = Date.now();
  fake.reset(origin);
  await post(`${agent.url}/reset`, { at: origin });
  const events = subscribeEvents(`${agent.url}/events`);
  running.push({ close: async () => events.close() });
  return { fake, agent, events, output: () => output };
}

describe('rehearsal mode', () => {
  it('every model rate-limited for 8 s: holds once, backs off, answers; the next turn is answered at once', async () => {
    const { agent, events, fake, output } = await rig('    - { when: { model: "*", until: 8s }, then: { error: rate-limit-per-minute, retryAfter: 2s } }');
    await post(`${agent.url}/turns`, { text: 'What is the capital of France?' });
    await events.waitFor((e) => e.type === 'utterance' && e.source !== 'hold');
    await post(`${agent.url}/turns`, { text: 'And of Italy?' });
    await events.waitFor((e) => e.type === 'utterance' && e.turnId === 'turn-2');

    const spoken = events.all.filter((e): e is UtteranceEvent => e.type === 'utterance');
    expect(spoken.map((u) => [u.source, u.text, u.turnId])).toEqual([
      ['hold', 'Hang on a sec.', 'turn-1'],
      [`openrouter:${A}`, 'Paris is the capital of France.', 'turn-1'],
      [`openrouter:${A}`, 'Paris is the capital of France.', 'turn-2'],
    ]);
    // The hold plays during the first wait, not after the backoff: before the second pass starts.
    // (Not a fixed number of ms: at speed 10, a loaded 2-core machine adds ten times its wall latency.)
    const firstWait = events.all.find((e) => e.type === 'policy' && e.step === 'wait') as { until: number };
    expect(spoken[0]!.start).toBeLessThan(firstWait.until);
    expect(spoken[1]!.start).toBeGreaterThanOrEqual(8_000);
    const waits = events.all.filter((e) => e.type === 'policy' && e.step === 'wait');
    expect(waits.length).toBeGreaterThanOrEqual(2);
    // Backoff never asks a model before its Retry-After ran out.
    const asked = fake.journal().entries.filter((e) => e.model === A).map((e) => e.at);
    for (let i = 1; i < asked.length; i++) expect(asked[i]! - asked[i - 1]!).toBeGreaterThanOrEqual(1_900);
    expect(output()).toContain('"msg":"attempt failed"');
    expect(output()).not.toContain(KEY);
    expect(JSON.stringify(events.all)).not.toContain(KEY);
  });

  it('everything down past the window: the hold, the apology near 60 s, and the next turn answered once service is back', async () => {
    const { agent, events } = await rig('    - { when: { model: "*", until: 75s }, then: { error: provider-down } }');
    await post(`${agent.url}/turns`, { text: 'What is the capital of France?' });
    await events.waitFor((e) => e.type === 'turn_end' && e.turnId === 'turn-1', { timeoutMs: 30_000 });
    await events.waitFor((e) => e.type === 'utterance' && e.source === 'apology', { timeoutMs: 10_000 });
    // The caller speaks again after the outage is over.
    await waitUntilScenario(agent, 76_000);
    await post(`${agent.url}/turns`, { text: 'Are you there?' });
    await events.waitFor((e) => e.type === 'utterance' && e.turnId === 'turn-2', { timeoutMs: 10_000 });

    const spoken = events.all.filter((e): e is UtteranceEvent => e.type === 'utterance');
    expect(spoken.map((u) => [u.source, u.text])).toEqual([
      ['hold', 'Hang on a sec.'],
      ['apology', "Sorry, I can't answer that right now."],
      [`openrouter:${A}`, 'Paris is the capital of France.'],
    ]);
    expect(spoken[1]!.start).toBeGreaterThan(50_000);
    expect(spoken[1]!.start).toBeLessThan(62_000);
    expect(events.all.filter((e) => e.type === 'close')).toEqual([]);
    const status = (await (await fetch(`${agent.url}/llm/status`)).json()) as { backends: { backend: string }[] };
    expect(status.backends.map((b) => b.backend)).toEqual([`openrouter:${A}`, `openrouter:${B}`, 'local']);
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    expect(metrics).toMatch(/holdline_holds_total 1/);
    expect(metrics).toMatch(/holdline_apologies_total 1/);
  });

  it('the caller speaks again during the wait: the first turn is dropped silently, the second answered', async () => {
    const { agent, events, fake } = await rig(
      [
        // A 503, not a 429: a rate limit's reset time would pace the next pass (at 1 s, before the caller speaks
        // again), and free-models-per-min would keep B (a :free model too) out with A; a 5xx waits for the backoff.
        `    - { when: { model: "${A}", nth: 1 }, then: { error: no-provider, retryAfter: 500ms } }`,
        `    - { when: { model: "${B}" }, then: { error: no-provider } }`,
      ].join('\n'),
      { BACKOFF_INITIAL_MS: '10000', BACKOFF_MAX_MS: '10000' }, // a long wait: room for the second turn even on a loaded machine
    );
    await post(`${agent.url}/turns`, { text: 'What is the capital of France?' });
    await events.waitFor((e) => e.type === 'policy' && e.step === 'wait');
    await events.waitFor((e) => e.type === 'utterance' && e.source === 'hold');
    // Speak again once A's Retry-After (rounded up to 1 s) is over: otherwise the second turn would find A
    // cooling down and rightly hold too. The backoff (10 s) is still running, so this is during the wait.
    const failed = events.all.find((e) => e.type === 'attempt' && e.model === A && e.outcome === 'unavailable');
    if (failed?.type !== 'attempt' || failed.cooldownUntil === undefined) throw new Error('no failed attempt on the first model');
    await waitUntilScenario(agent, failed.cooldownUntil);
    await post(`${agent.url}/turns`, { text: 'Hello?' });
    await events.waitFor((e) => e.type === 'utterance' && e.turnId === 'turn-2');

    const spoken = events.all.filter((e): e is UtteranceEvent => e.type === 'utterance');
    expect(spoken.map((u) => [u.turnId, u.source, u.text])).toEqual([
      ['turn-1', 'hold', 'Hang on a sec.'],
      ['turn-2', `openrouter:${A}`, 'Paris is the capital of France.'],
    ]);
    expect(events.all.filter((e) => e.type === 'turn_end').map((e) => [e.turnId, e.outcome])).toEqual([
      ['turn-1', 'cancelled'],
      ['turn-2', 'answered'],
    ]);
    // Turn 1's episode asked nothing after it was cancelled: A once for each turn, B once.
    expect(fake.journal().entries.filter((e) => e.path.endsWith('/chat/completions')).map((e) => e.model)).toEqual([A, B, A]);
  });

  it('GET /events answers at once, before anything has happened', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    // Headers must not wait for the first event (or the 15 s keep-alive): a subscriber connects, then plays.
    const res = await fetch(`${agent.url}/events`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    await res.body?.cancel();
  });

  it('GET /events resumes after Last-Event-ID or ?since=, and refuses an id that is not one', async () => {
    const { agent, events } = await rig('    - { when: { model: "nobody" }, then: hang }');
    await post(`${agent.url}/turns`, { text: 'What is the capital of France?' });
    await events.waitFor((e) => e.type === 'turn_end');
    const count = events.all.length;
    // Events may still come (state changes after the turn): compare the first `count` of each read.
    const ids = (await readIds(`${agent.url}/events`, {}, count)).slice(0, count);
    expect(ids).toHaveLength(count);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const after = ids[2] as number;
    expect((await readIds(`${agent.url}/events`, { 'Last-Event-ID': String(after) }, count - 3)).slice(0, count - 3)).toEqual(ids.slice(3));
    expect((await readIds(`${agent.url}/events?since=${after}`, {}, count - 3)).slice(0, count - 3)).toEqual(ids.slice(3));
    for (const bad of ['?since=-1', '?since=abc', '?since=1e300']) {
      const res = await fetch(`${agent.url}/events${bad}`);
      expect(res.status, bad).toBe(400);
      expect(await res.json()).toEqual({ error: 'expected Last-Event-ID or ?since= to be an event id (a whole number)' });
    }
  });

  it(`GET /events takes at most ${MAX_SUBSCRIBERS} streams at once (each may pin one page), then 503 until one closes`, async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    const open = new AbortController();
    // The rig's own feed is one; fill the rest.
    const streams = await Promise.all(Array.from({ length: MAX_SUBSCRIBERS - 1 }, () => fetch(`${agent.url}/events`, { signal: open.signal })));
    expect(streams.every((r) => r.status === 200)).toBe(true);
    const refused = await fetch(`${agent.url}/events`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: `already ${MAX_SUBSCRIBERS} event streams open; close one and retry` });
    open.abort();
    // The server hears the closes asynchronously: poll the route itself until a stream is free again.
    let status = 503;
    for (let i = 0; i < 200 && status === 503; i++) {
      const res = await fetch(`${agent.url}/events`, { signal: AbortSignal.timeout(5_000) });
      status = res.status;
      await res.body?.cancel();
    }
    expect(status).toBe(200);
  });

  it('GET /lateness reports how long this process could not run since an instant', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    const since = Date.now();
    const blockedUntil = Date.now() + 60;
    while (Date.now() < blockedUntil); // nothing in this process can run, the agent's probe included
    let report = { id: '', stalls: [] as [number, number][] };
    while (report.stalls.length === 0) report = (await (await fetch(`${agent.url}/lateness?since=${since}`)).json()) as typeof report;
    expect(report.stalls.reduce((sum, [, late]) => sum + late, 0)).toBeGreaterThanOrEqual(30);
    const missing = await fetch(`${agent.url}/lateness?since=soon`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'expected ?since=<epoch ms>' });
  });

  it('rejects a turn without text with a clear message', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    const res = await fetch(`${agent.url}/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'expected a JSON body like {"text": "What is the capital of France?"}' });
  });
});

describe('bad requests get JSON, never an HTML page with a stack trace or paths', () => {
  const sendRaw = (url: string, body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  const expectJsonError = async (res: Response, status: number, error: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error });
    expect(text).not.toMatch(/<|\bat \w|node_modules|\/work\/|[A-Z]:\\/);
  };

  it('malformed JSON: 400 saying so', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    await expectJsonError(await sendRaw(`${agent.url}/turns`, '{"text": "unterminated'), 400, 'the body is not valid JSON');
    await expectJsonError(await sendRaw(`${agent.url}/reset`, '{'), 400, 'the body is not valid JSON');
  });

  it('a body over the limit: 413 naming the limit', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    await expectJsonError(await sendRaw(`${agent.url}/turns`, JSON.stringify({ text: 'x'.repeat(BODY_LIMIT_BYTES) })), 413, `the body is larger than the ${BODY_LIMIT_BYTES}-byte limit`);
  });

  it('an unknown route: 404 listing the routes', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    const res = await fetch(`${agent.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/^no route GET \/nope; see /);
  });

  it('a page on another site cannot reset the agent or speak a turn: text/plain 415, a foreign Origin or Host 403', async () => {
    const { agent, events } = await rig('    - { when: { model: "nobody" }, then: hang }');
    const origin = agent.clock.origin;
    await expectJsonError(await sendRaw(`${agent.url}/reset`, '{}', 'text/plain'), 415, 'expected Content-Type application/json, got "text/plain"');
    await expectJsonError(await sendRaw(`${agent.url}/turns`, '{"text":"hi"}', 'application/x-www-form-urlencoded'), 415, 'expected Content-Type application/json, got "application/x-www-form-urlencoded"');
    const foreign = await fetch(`${agent.url}/reset`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' });
    await expectJsonError(foreign, 403, 'the control API refuses cross-site requests (Origin is another site)');
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${agent.url}/reset`, { method: 'POST', headers: { host: `rebound.example:${agent.port}`, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(rebound).toBe(403);
    expect(agent.clock.origin).toBe(origin);
    expect(events.all.filter((e) => e.type === 'turn')).toEqual([]);
  });

  it('POST /reset refuses an instant that is not near now (1e300, a string, a year away) and keeps its origin', async () => {
    const { agent } = await rig('    - { when: { model: "nobody" }, then: hang }');
    const origin = agent.clock.origin;
    for (const at of [1e300, -1, 'yesterday', Date.now() + 365 * 24 * 3600_000]) {
      const res = await sendRaw(`${agent.url}/reset`, JSON.stringify({ at }));
      expect(res.status, String(at)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^expected "at" in epoch ms within 24 hours of now \(\d+\), got /);
    }
    expect(agent.clock.origin).toBe(origin);
  });
});

/** The ids of the first `count` events a subscriber gets (the stream stays open: read just that many). */
async function readIds(url: string, headers: Record<string, string>, count: number): Promise<number[]> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  let text = '';
  const ids = () => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (ids().length >= count && text.endsWith('\n\n')) break;
  }
  abort.abort();
  return ids();
}

async function post(url: string, body: unknown): Promise<Response> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res;
}

/** The script's next line is at a scenario instant (like the runner's `user[].at`): wait for it on the clock. */
async function waitUntilScenario(agent: RehearsalAgent, scenarioMs: number): Promise<void> {
  const remaining = scenarioMs - agent.clock.now();
  if (remaining > 0) await agent.clock.sleep(remaining);
}
