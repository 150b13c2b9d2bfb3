/**
 * The player against stand-ins for the agent and the fake (plain HTTP servers speaking their APIs), at high
 * speed: turns go out at their scenario times, events are collected until the rehearsal is over, and a stuck
 * rehearsal or a crashed service ends it with a clear message.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { judge, toJson } from '../result.js';
import type { RunningStack, ServiceFailure } from '../stack/stack.js';
import { rehearse, ServiceCrashed } from './rehearse.js';

// The runner's mechanics, not a race: 2 s windows are 100 ms of wall time at speed 20, room for a busy machine.
const SPEED = 20;
const scenario = parseScenario(
  `name: stub
description: two turns
agent: { models: [m/one] }
user:
  - { at: 0s, say: "First?" }
  - { at: 10s, say: "Second?" }
expect:
  spoken:
    - { text: "Answer to First?", source: "openrouter:m/one", start: [0s, 2s] }
    - { text: "Answer to Second?", source: "openrouter:m/one", start: [10s, 12s] }
  requests:
    - { model: "m/one", count: 2 }
`,
  'stub.yaml',
);

type Behaviour = 'answers' | 'never ends';

/** An agent stand-in: answers each turn at once (or never ends it), on a clock reset like the real one. */
function stubAgent(behaviour: Behaviour) {
  let origin = Date.now();
  let history: AgentEvent[] = [];
  const streams = new Set<ServerResponse>();
  const now = () => Math.round((Date.now() - origin) * SPEED);
  const publish = (event: Record<string, unknown>) => {
    const stamped = { ...event, at: now(), epochMs: Date.now() } as AgentEvent;
    history.push(stamped);
    for (const res of streams) res.write(`data: ${JSON.stringify(stamped)}\n\n`);
  };
  let turns = 0;
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/reset') {
        origin = (JSON.parse(body) as { at: number }).at;
        history = [];
        return res.end('{}');
      }
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const event of history) res.write(`data: ${JSON.stringify(event)}\n\n`);
        streams.add(res);
        res.on('close', () => streams.delete(res));
        return;
      }
      if (req.url !== '/turns') {
        res.statusCode = 404; // e.g. GET /lateness: this stub measures nothing, the runner judges without it
        return res.end('{}');
      }
      const text = (JSON.parse(body) as { text: string }).text;
      const turnId = `turn-${++turns}`;
      res.end(JSON.stringify({ accepted: true, at: now() }));
      publish({ type: 'turn', turnId, text });
      if (behaviour === 'never ends') return;
      const start = now();
      publish({ type: 'utterance', turnId, text: `Answer to ${text}`, source: 'openrouter:m/one', start, end: start + 900, interrupted: false });
      publish({ type: 'turn_end', turnId, outcome: 'answered', source: 'openrouter:m/one' });
      publish({ type: 'state', from: 'speaking', to: 'listening' });
    });
  });
}

function stubFake() {
  return createServer((req, res) => {
    if (req.url === '/__fake/journal') {
      const entry = (seq: number, at: number) => ({ seq, at, method: 'POST', path: '/api/v1/chat/completions', model: 'm/one', outcome: '200' });
      res.end(JSON.stringify({ originEpochMs: 0, speed: SPEED, entries: [entry(1, 5), entry(2, 10_005), { ...entry(3, 6), path: '/api/v1/models', model: null }] }));
    } else res.end('{}');
  });
}

const servers: Server[] = [];
async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function stack(behaviour: Behaviour, crashed: Promise<ServiceFailure> = new Promise(() => {})): Promise<RunningStack> {
  return { agentUrl: await listen(stubAgent(behaviour)), fakeUrl: await listen(stubFake()), pids: {}, crashed, stop: async () => {} };
}

describe('rehearse', () => {
  it('plays each turn at its time and records until the rehearsal is over', async () => {
    const recording = await rehearse(await stack('answers'), scenario, { speed: SPEED });
    expect(recording.problems).toEqual([]);
    expect(recording.turns.map((t) => t.say)).toEqual(['First?', 'Second?']);
    // The second turn went out at 10 s of scenario time (500 ms of wall time at this speed), not before.
    expect(recording.turns[1]?.acceptedAt).toBeGreaterThanOrEqual(10_000);
    const result = judge(scenario, SPEED, recording);
    expect(result.failures).toEqual([]);
    expect(result.requests).toHaveLength(2); // chat completions only, not the catalog
  });

  it('gives up at the cap on a turn that never ends, and says which', async () => {
    const recording = await rehearse(await stack('never ends'), scenario, { speed: 2_000 });
    expect(recording.problems).toEqual(['the rehearsal was not over 120 s (scenario time) after the last turn: turn-1 ("First?") never ended']);
  });

  it('stops with the crashed service named', async () => {
    const failure: ServiceFailure = { service: 'the agent', pid: 42, how: 'on SIGKILL', output: [] };
    const crashed = new Promise<ServiceFailure>((resolve) => setTimeout(() => resolve(failure), 20));
    const playing = rehearse(await stack('never ends', crashed), scenario, { speed: 20 });
    await expect(playing).rejects.toThrow(ServiceCrashed);
    await expect(playing).rejects.toThrow('the agent (pid 42) stopped unexpectedly on SIGKILL');
  });
});

describe('rehearse a fleet (calls: N)', () => {
  const fleet = parseScenario(
    `name: fleet
description: two calls, the second 5 s later
agent: { models: [m/one] }
calls: 2
stagger: 5s
user:
  - { at: 0s, say: "First?" }
expect:
  spoken:
    - { text: "Answer to First?", source: "openrouter:m/one", start: [0s, 2s] }
  requests:
    - { model: "m/one", count: 2 }
`,
    'fleet.yaml',
  );

  async function fleetStack(second: Behaviour): Promise<RunningStack> {
    const urls = [await listen(stubAgent('answers')), await listen(stubAgent(second))];
    return { agentUrl: urls[0] as string, callUrls: urls, fakeUrl: await listen(stubFake()), pids: {}, crashed: new Promise(() => {}), stop: async () => {} };
  }

  it('names a call whose agent died after it was ready, before the reset (not "fetch failed")', async () => {
    const server = stubAgent('answers');
    const gone = await listen(server);
    await new Promise((resolve) => server.close(resolve)); // call 2's agent exited while the others started: its reset is refused
    const failure: ServiceFailure = { service: 'the agent of call 2', pid: 43, how: 'with code 1', output: ['FATAL bad config'] };
    const alive = await listen(stubAgent('answers'));
    const dead: RunningStack = { agentUrl: alive, callUrls: [alive, gone], fakeUrl: await listen(stubFake()), pids: {}, crashed: Promise.resolve(failure), stop: async () => {} };
    const playing = rehearse(dead, fleet, { speed: SPEED });
    await expect(playing).rejects.toThrow(ServiceCrashed);
    await expect(playing).rejects.toThrow(/the agent of call 2 \(pid 43\) stopped unexpectedly with code 1/);
  });

  it('plays the turns on every call, call k a stagger later, and judges each call against its shifted windows', async () => {
    const recording = await rehearse(await fleetStack('answers'), fleet, { speed: SPEED });
    expect(recording.problems).toEqual([]);
    expect(recording.calls?.map((c) => [c.call, c.offsetMs, c.turns.map((t) => t.atMs)])).toEqual([[1, 0, [0]], [2, 5000, [5000]]]);
    // Call 2's turn went out at 5 s of scenario time, not with call 1's.
    expect(recording.calls?.[1]?.turns[0]?.acceptedAt).toBeGreaterThanOrEqual(5000);
    const result = judge(fleet, SPEED, recording);
    expect(result.failures).toEqual([]);
    expect(result.calls?.map((c) => c.heard.map((h) => h.text))).toEqual([['Answer to First?'], ['Answer to First?']]);
    // Call 2 answered after 5 s: only its shifted window [5 s, 7 s] lets that pass.
    expect(result.calls?.[1]?.heard[0]?.start).toBeGreaterThanOrEqual(5000);
    // The fleet's requests are the fake's one journal, counted once.
    expect(result.requests).toHaveLength(2);
    const json = toJson(result);
    expect(Object.keys(json)).toEqual(['scenario', 'passed', 'speed', 'spoken', 'requests', 'failures', 'timing', 'calls']);
    expect(json.spoken).toEqual(json.calls?.[0]?.spoken);
    expect(json.calls?.map((c) => c.call)).toEqual([1, 2]);
  });

  it('names the call that is still waiting at the cap', async () => {
    const recording = await rehearse(await fleetStack('never ends'), fleet, { speed: 2_000 });
    expect(recording.problems).toEqual(['the rehearsal was not over 120 s (scenario time) after the last turn: call 2: turn-1 ("First?") never ended']);
    expect(judge(fleet, 2_000, recording).failures).toContain('call 2: spoken: expected 1 utterance, heard 0');
  });

  it('keeps one call exactly as before: no calls in the recording or in --json', async () => {
    const recording = await rehearse(await stack('answers'), scenario, { speed: SPEED });
    expect(recording).not.toHaveProperty('calls');
    expect(toJson(judge(scenario, SPEED, recording))).not.toHaveProperty('calls');
  });

  it('refuses to take Redis down on a stack that started none', async () => {
    const down = { ...fleet, agent: { ...fleet.agent, redis: { down: { atMs: 1000, forMs: 1000 } } } };
    await expect(rehearse(await fleetStack('answers'), down, { speed: SPEED })).rejects.toThrow('this stack started no Redis the runner can kill');
  });

  it('kills and restarts the Redis at the scenario times, and records the outage', async () => {
    const down = { ...fleet, agent: { ...fleet.agent, redis: { down: { atMs: 1000, forMs: 2000 } } } };
    const steps: string[] = [];
    const redis = { url: 'redis://127.0.0.1:1', kill: async () => void steps.push('kill'), restart: async () => void steps.push('restart') };
    const recording = await rehearse({ ...(await fleetStack('answers')), redis }, down, { speed: SPEED });
    expect(steps).toEqual(['kill', 'restart']);
    const [outage] = recording.redisOutages ?? [];
    expect(outage?.at).toBeGreaterThanOrEqual(1000);
    expect(outage?.until).toBeGreaterThanOrEqual(3000);
  });
});
