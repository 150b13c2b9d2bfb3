/**
 * Rehearsal mode on an AutoClock (contract/time/auto-clock.ts): the fake, the agent and this test in one
 * process on one clock that skips idle time, so a minute of outage takes the work in it, and every instant is
 * exact: two runs give the same events to the millisecond.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { subscribeEvents } from '../../contract/event-stream.js';
import type { AgentEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { AutoClock } from '../../contract/time/auto-clock.js';
import { warmUp } from '../../contract/time/quiet.js';
import { startFake } from '../../fakes/openrouter/index.js';
import { closedPort } from '../testing/ports.js';
import { startRehearsal } from './server.js';

const KEY = 'sk-or-v1-rehearsal-secret-0123456789';
const A = 'meta-llama/llama-3.3-70b-instruct:free';
const B = 'qwen/qwen-2.5-72b-instruct:free';

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close();
});
beforeAll(warmUp);

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

/** Plays one turn (and a second once the first is answered) and returns every event, times exact. */
async function rehearse(rules: string): Promise<{ events: AgentEvent[]; wallMs: number }> {
  const scenario = parseScenario(
    ['name: virtual', 'description: on an AutoClock', `agent: { models: ["${A}", "${B}"] }`, 'fake:', '  reply: { text: "Paris is the capital of France.", ttft: 200ms, tokensPerSecond: 40 }', '  rules:', rules].join('\n'),
    'virtual.yaml',
  );
  // Started first: it must see every socket the fake and the agent open (quiet.ts).
  const clock = new AutoClock().start();
  running.push({ close: () => clock.stop() });
  const fake = await startFake({ scenario, clock, log: pino({ level: 'silent' }) });
  running.push(fake);
  const agent = await startRehearsal({
    clock,
    log: pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })),
    env: { OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: fake.baseURL, LLM_MODEL: `${A},${B}`, LOCAL_LLM_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` },
  });
  running.push(agent);
  const origin = Date.now();
  fake.reset(origin);
  await post(`${agent.url}/reset`, { at: origin });
  const events = subscribeEvents(`${agent.url}/events`);
  running.push({ close: async () => events.close() });
  const wall = Date.now();
  await post(`${agent.url}/turns`, { text: 'What is the capital of France?' });
  await events.waitFor((e) => e.type === 'turn_end' && e.turnId === 'turn-1');
  await events.waitFor((e) => e.type === 'state' && e.to === 'listening');
  return { events: events.all.filter((e) => e.type !== 'state'), wallMs: Date.now() - wall };
}

describe('a rehearsal on virtual time', () => {
  it('every model rate-limited for 8 s: the hold, the answer at the end of the storm, exact to the millisecond', async () => {
    const rules = '    - { when: { model: "*", until: 8s }, then: { error: rate-limit-per-minute, retryAfter: 2s } }';
    const first = await rehearse(rules);
    console.log(first.wallMs, first.events.map((e) => `${e.at} ${e.type} ${'text' in e ? e.text : ''}${'step' in e ? e.step : ''}`).join('\n'));
  });
});
