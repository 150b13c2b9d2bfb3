import { APIConnectionError } from 'openai';
import { once } from 'node:events';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIO_MAX_BYTES } from '../../contract/scenario/bounds.js';
import { RESET_MAX_BYTES } from './routes/admin.js';
import { pino } from 'pino';
import { startFake, type FakeOptions, type RunningFake } from './server.js';
import { fakeFor, KEY, makeScenario, MODEL_A, MODEL_B, nextClosed, openaiFor, raw, rawChat, sse, USER } from './testing.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

describe('the control API', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('PUT /__fake/scenario swaps the script live', async () => {
    fake = await fakeFor({ reply: { text: 'before', ttft: '0ms' } });
    const doc = { name: 'swapped', description: 'd', agent: { models: [MODEL_A] }, fake: { rules: [{ then: { error: 'timeout' } }] } };
    const put = await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: stringify(doc) });
    expect(put.status).toBe(200);
    expect(JSON.parse(put.body)).toEqual({ ok: true, name: 'swapped' });
    expect((await rawChat(fake, { model: MODEL_A, messages: USER })).status).toBe(408);
    // JSON is accepted too (it is YAML).
    const back = await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', headers: JSON_TYPE, body: JSON.stringify({ ...doc, fake: {} }) });
    expect(back.status).toBe(200);
    expect((await rawChat(fake, { model: MODEL_A, messages: USER })).status).toBe(200);
  });

  it('PUT /__fake/scenario answers 400 with every problem, and keeps the old script', async () => {
    fake = await fakeFor({ reply: { text: 'kept', ttft: '0ms' } });
    const text = ['name: Bad Name', 'description: d', 'agent: { models: [] }', 'fake:', '  rules:', '    - then: { error: nope }', ''].join('\n');
    const put = await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', headers: { 'Content-Type': 'text/yaml; charset=utf-8' }, body: text });
    expect(put.status).toBe(400);
    const { ok, problems } = JSON.parse(put.body) as { ok: boolean; problems: { text: string }[] };
    expect(ok).toBe(false);
    expect(problems.map((p) => p.text)).toEqual([
      'scenario:1:7 name: expected a lowercase name like rate-limit-storm',
      'scenario:3:18 agent.models: expected at least one model in the chain',
      'scenario:6:22 fake.rules[0].then.error: expected one of rate-limit-per-minute, rate-limit-per-day, upstream-rate-limit, no-endpoints, insufficient-credits, invalid-key, moderation, timeout, provider-down, no-provider, bad-request, got "nope"',
    ]);
    expect(JSON.parse((await rawChat(fake, { model: MODEL_A, messages: USER })).body)).toMatchObject({ choices: [{ message: { content: 'kept' } }] });
  });

  it('PUT /__fake/scenario answers an alias bomb with one clear problem (400), and keeps serving', async () => {
    fake = await fakeFor({ reply: { text: 'kept', ttft: '0ms' } });
    const levels = Array.from({ length: 9 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    const bomb = ['name: bomb', 'description: d', 'agent: { models: [a/b] }', 'x:', '  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...levels, ''].join('\n');
    const put = await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: bomb });
    expect(put.status).toBe(400);
    expect((JSON.parse(put.body) as { problems: { text: string }[] }).problems.map((p) => p.text)).toEqual([
      expect.stringMatching(/^scenario:\d+:\d+ expands to more than 100000 values once its aliases are followed/),
    ]);
    expect((await raw(`${fake.url}/__fake/health`)).status).toBe(200);
  });

  it('a body over a control route\'s limit gets 413 naming that route\'s own limit, not the chat limit', async () => {
    fake = await fakeFor({}, { bodyLimitBytes: 4096 });
    const scenario = await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: `# ${'x'.repeat(SCENARIO_MAX_BYTES)}` });
    expect(scenario.status).toBe(413);
    expect(JSON.parse(scenario.body)).toEqual({ error: { message: `Request body too large: the limit is ${SCENARIO_MAX_BYTES} bytes`, code: 413 } });
    const reset = await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: ' '.repeat(RESET_MAX_BYTES + 1) });
    expect(reset.status).toBe(413);
    expect(JSON.parse(reset.body)).toEqual({ error: { message: `Request body too large: the limit is ${RESET_MAX_BYTES} bytes`, code: 413 } });
  });

  it('POST /__fake/reset clears counters and journal; {"at"} puts scenario time 0 at that instant', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { nth: 1 }, then: { error: 'timeout' } }] }, { speed: 1 });
    await rawChat(fake, { model: MODEL_A, messages: USER });
    const at = Date.now() - 60_000;
    const reset = await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ at }) });
    expect(JSON.parse(reset.body)).toEqual({ ok: true, originEpochMs: at });
    expect(fake.journal().entries).toEqual([]);
    expect((await rawChat(fake, { model: MODEL_A, messages: USER })).status).toBe(408);
    const journal = JSON.parse((await raw(`${fake.url}/__fake/journal`)).body) as { originEpochMs: number; entries: { seq: number; at: number }[] };
    expect(journal.originEpochMs).toBe(at);
    expect(journal.entries[0]?.seq).toBe(1);
    expect(journal.entries[0]?.at).toBeGreaterThanOrEqual(60_000);
    const bad = await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: JSON_TYPE, body: '{"at":"yesterday"}' });
    expect(bad.status).toBe(400);
    for (const far of [1e300, -1, Date.now() + 400 * 24 * 3600_000]) {
      const refused = await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ at: far }) });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('expected \\"at\\" in epoch ms within 24 hours of now');
    }
    expect(fake.clock.origin).toBe(at);
  });

  it('GET /__fake/health says what is playing', async () => {
    fake = await fakeFor({}, { speed: 5 });
    expect(JSON.parse((await raw(`${fake.url}/__fake/health`)).body)).toEqual({
      ok: true,
      scenario: 'test',
      speed: 5,
      originEpochMs: fake.clock.origin,
      now: expect.any(Number),
    });
  });

  it('GET /__fake/lateness reports this process\'s stalls since an instant, and asks for that instant', async () => {
    fake = await fakeFor({});
    const since = Date.now();
    const blockedUntil = Date.now() + 60;
    while (Date.now() < blockedUntil); // the process cannot run its probe for 60 ms
    let report = { id: '', stalls: [] as [number, number][] };
    while (report.stalls.length === 0) report = JSON.parse((await raw(`${fake.url}/__fake/lateness?since=${since}`)).body) as typeof report;
    expect(report.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.stalls.reduce((sum, [, late]) => sum + late, 0)).toBeGreaterThanOrEqual(30);
    expect(report.stalls.every(([end]) => end >= since)).toBe(true);
    const missing = await raw(`${fake.url}/__fake/lateness`);
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toEqual({ ok: false, problems: [{ text: 'expected ?since=<epoch ms>' }] });
  });

  it('GET /__fake/journal records every request: time, model, stream, rule, outcome, ttfb, duration', async () => {
    // A 10 s ttft (half a second of wall time at speed 20): "at once" must stay far from it on a busy machine.
    fake = await fakeFor({ reply: { text: 'one two', ttft: '10s' }, rules: [{ when: { model: MODEL_B }, then: { error: 'timeout' } }] });
    await rawChat(fake, { model: MODEL_A, messages: USER, stream: true });
    await rawChat(fake, { model: MODEL_B, messages: USER });
    const { speed, entries } = fake.journal();
    expect(speed).toBe(20);
    expect(entries).toEqual([
      {
        seq: 1,
        at: expect.any(Number),
        method: 'POST',
        key: expect.stringMatching(/^key_[0-9a-f]{12}$/),
        path: '/api/v1/chat/completions',
        model: MODEL_A,
        servedBy: MODEL_A,
        stream: true,
        rule: null,
        ruleText: 'no rule matched: reply with fake.reply.',
        outcome: '200',
        ttfbMs: expect.any(Number),
        durationMs: expect.any(Number),
      },
      expect.objectContaining({ seq: 2, model: MODEL_B, stream: false, rule: 0, outcome: '408' }),
    ]);
    // The stream's status line goes out at once; the reply takes the 10 s ttft plus a token.
    expect(entries[0]?.ttfbMs).toBeLessThan(10_000);
    expect(entries[0]?.durationMs).toBeGreaterThanOrEqual(10_000);
    expect(entries[1]?.at).toBeGreaterThanOrEqual((entries[0]?.at ?? 0) + 10_000);
  });
});

describe('the control API refuses what a web page or a stranger could send', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());
  /** The fake has seen one request, so a reset would be visible. */
  const withOneRequest = async (options: Partial<FakeOptions> = {}) => {
    fake = await fakeFor({ reply: { ttft: '0ms' } }, options);
    await rawChat(fake, { model: MODEL_A, messages: USER });
    expect(fake.journal().entries).toHaveLength(1);
  };

  it('a text/plain POST (what any page may send without asking) does not reset the fake: 415', async () => {
    await withOneRequest();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: { 'Content-Type': type }, body: '{"at": 0}' });
      expect(res.status, type).toBe(415);
      expect(JSON.parse(res.body)).toEqual({ ok: false, problems: [{ text: `expected Content-Type application/json, got ${JSON.stringify(type.split(';')[0])}` }] });
    }
    const untyped = await raw(`${fake.url}/__fake/reset`, { method: 'POST', body: '{}' });
    expect(untyped.status).toBe(415);
    expect(fake.journal().entries).toHaveLength(1);
    // An empty body needs no type (curl -X POST .../reset).
    expect((await raw(`${fake.url}/__fake/reset`, { method: 'POST' })).status).toBe(200);
    expect(fake.journal().entries).toHaveLength(0);
  });

  it('a scenario PUT must be declared YAML or JSON', async () => {
    await withOneRequest();
    const doc = stringify({ name: 'swapped', description: 'd', agent: { models: [MODEL_A] } });
    expect((await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: doc })).status).toBe(415);
    expect((await raw(`${fake.url}/__fake/scenario`, { method: 'PUT', body: doc })).status).toBe(415);
    expect(JSON.parse((await raw(`${fake.url}/__fake/health`)).body)).toMatchObject({ scenario: 'test' });
  });

  it('a request from another site (its Origin) is refused on every route, even with the right content type', async () => {
    await withOneRequest();
    const origin = { Origin: 'https://evil.example', ...JSON_TYPE };
    for (const [method, path] of [['POST', 'reset'], ['GET', 'journal'], ['GET', 'health'], ['GET', 'lateness?since=0']] as const) {
      const res = await raw(`${fake.url}/__fake/${path}`, { method, headers: origin, ...(method === 'POST' && { body: '{}' }) });
      expect(res.status, path).toBe(403);
      expect(res.body).toContain('cross-site');
    }
    expect((await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: { Origin: 'null', ...JSON_TYPE }, body: '{}' })).status).toBe(403);
    expect(fake.journal().entries).toHaveLength(1);
    // Its own origin (a page the fake served, or a tool that sets it) is fine.
    expect((await raw(`${fake.url}/__fake/journal`, { headers: { Origin: fake.url } })).status).toBe(200);
  });

  it('bound to the loopback, a request addressed to another name (DNS rebinding) is refused', async () => {
    await withOneRequest();
    const rebound = await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: { Host: `attacker.example:${fake.port}`, ...JSON_TYPE }, body: '{}' });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('DNS rebinding');
    expect((await raw(`${fake.url}/__fake/journal`, { headers: { Host: `attacker.example:${fake.port}` } })).status).toBe(403);
    expect(fake.journal().entries).toHaveLength(1);
    for (const host of [`localhost:${fake.port}`, `127.0.0.1:${fake.port}`, '[::1]', 'LOCALHOST']) {
      expect((await raw(`${fake.url}/__fake/journal`, { headers: { Host: host } })).status, host).toBe(200);
    }
  });

  it('with an admin token, every route but the health check wants it; the token is compared, not echoed', async () => {
    await withOneRequest({ adminToken: 'opensesame-0123' });
    const bearer = { Authorization: 'Bearer opensesame-0123' };
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 'opensesame-0123' }] as Record<string, string>[]) {
      const res = await raw(`${fake.url}/__fake/journal`, { headers });
      expect(res.status).toBe(401);
      expect(res.body).not.toContain('opensesame');
    }
    expect((await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: JSON_TYPE, body: '{}' })).status).toBe(401);
    expect(fake.journal().entries).toHaveLength(1);
    expect((await raw(`${fake.url}/__fake/health`)).status).toBe(200);
    expect((await raw(`${fake.url}/__fake/journal`, { headers: bearer })).status).toBe(200);
    expect((await raw(`${fake.url}/__fake/reset`, { method: 'POST', headers: { ...bearer, ...JSON_TYPE }, body: '{}' })).status).toBe(200);
    expect(fake.journal().entries).toHaveLength(0);
  });

  it('bound beyond the loopback without a token, it warns loudly; with one, it does not', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    fake = await startFake({ scenario: makeScenario(), host: '0.0.0.0', log });
    await fake.close();
    expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string })).toEqual([
      expect.objectContaining({ level: 40, msg: expect.stringContaining('the control API (/__fake: reset, scenario, journal) is unauthenticated and reachable beyond this machine') }),
    ]);
    fake = await startFake({ scenario: makeScenario(), host: '0.0.0.0', log, adminToken: 'x-0123456789' });
    expect(lines).toHaveLength(1);
  });
});

describe('time', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('speed scales ttft: a 10s ttft at speed 20 is 10s of scenario time, ordered after a shorter one started later', async () => {
    fake = await fakeFor({
      reply: { text: 'word', ttft: '10s' },
      rules: [{ when: { model: MODEL_B }, then: { text: 'quick', ttft: '100ms' } }],
    });
    const order: string[] = [];
    const slow = rawChat(fake, { model: MODEL_A, messages: USER }).then(() => order.push('slow'));
    await once(fake.events, 'decided');
    const quick = rawChat(fake, { model: MODEL_B, messages: USER }).then(() => order.push('quick'));
    await Promise.all([slow, quick]);
    expect(order).toEqual(['quick', 'slow']);
    const [a, b] = fake.journal().entries;
    expect(a?.ttfbMs).toBeGreaterThanOrEqual(10_000);
    expect(b?.ttfbMs).toBeGreaterThanOrEqual(100);
    expect(b?.ttfbMs).toBeLessThan(10_000);
  });
});

describe('determinism', () => {
  it('two fresh fakes with the same scenario answer the same requests with the same bytes', async () => {
    const scenario = makeScenario({ reply: { ttft: '50ms', tokensPerSecond: 400 }, rules: [{ when: { nth: 3 }, then: { midStream: { afterTokens: 2, error: 'provider-down' } } }] });
    const run = async () => {
      const fake = await startFake({ scenario, speed: 20 });
      try {
        const bodies: string[] = [];
        for (const [model, stream] of [[MODEL_A, false], [MODEL_A, true], [MODEL_A, true], [MODEL_B, false], [MODEL_B, true]] as const) {
          const res = await rawChat(fake, { model, messages: USER, stream });
          bodies.push(`${res.headers?.['x-generation-id']}\n${res.body}`);
        }
        return bodies;
      } finally {
        await fake.close();
      }
    };
    const first = await run();
    expect(await run()).toEqual(first);
    // Different requests did get different generated text and ids.
    expect(new Set(first).size).toBe(first.length);
  });

  it('another seed gives other text and ids', async () => {
    const body = async (seed: number) => {
      const fake = await startFake({ scenario: makeScenario({ reply: { ttft: '0ms' } }, { seed }), speed: 20 });
      try {
        return (await rawChat(fake, { model: MODEL_A, messages: USER })).body;
      } finally {
        await fake.close();
      }
    };
    expect(await body(1)).not.toBe(await body(2));
  });
});

describe('clients that leave, and closing', () => {
  it('a client that disconnects mid-stream stops the stream\'s timers and is journaled as aborted', async () => {
    const fake = await fakeFor({ reply: { text: 'a b c d e f g h i j k l m n o p', ttft: '0ms', tokensPerSecond: 5 } });
    try {
      const closed = nextClosed(fake);
      const res = await rawChat(fake, { model: MODEL_A, messages: USER, stream: true }, { stopWhen: (body) => sse(body).data.length >= 2 });
      expect(res.complete).toBe(false);
      const entry = await closed;
      expect(entry).toMatchObject({ outcome: 'aborted', durationMs: expect.any(Number) });
      // 16 tokens at 5/s would take 3s; the client left after the second.
      expect(entry.durationMs).toBeLessThan(3000);
      // The fake is still serving.
      expect((await rawChat(fake, { model: MODEL_B, messages: USER, stream: false })).status).toBe(200);
    } finally {
      await fake.close();
    }
  });

  it('close() ends open streams, stalls and hanging sockets at once', async () => {
    const slowModel = 'mistralai/mistral-7b-instruct:free';
    const fake = await fakeFor({
      models: [slowModel],
      reply: { text: 'never finishes', ttft: '60m' },
      rules: [
        { when: { model: MODEL_A }, then: 'hang' },
        { when: { model: MODEL_B }, then: 'stall' },
      ],
    });
    const decided = new Promise<void>((resolve) => {
      let n = 0;
      fake.events.on('decided', () => ++n === 3 && resolve());
    });
    const pending = [
      rawChat(fake, { model: MODEL_A, messages: USER }),
      rawChat(fake, { model: MODEL_B, messages: USER, stream: true }),
      openaiFor(fake).chat.completions.create({ model: slowModel, messages: USER }).catch((e: unknown) => e),
    ] as const;
    await decided;
    await fake.close();
    const [hung, stalled, waiting] = await Promise.all(pending);
    expect(hung.status).toBeUndefined();
    expect(hung.complete).toBe(false);
    expect(stalled.status).toBe(200);
    expect(stalled.complete).toBe(false);
    expect(waiting).toBeInstanceOf(APIConnectionError);
    expect(await fake.close()).toBeUndefined();
  });

  it('does not take requests after close()', async () => {
    const fake = await fakeFor();
    await fake.close();
    const res = await raw(`${fake.baseURL}/models`, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(res.error?.code).toBe('ECONNREFUSED');
  });
});
