/**
 * One rehearsal rig, in-process: the fake OpenRouter playing a scenario, the rehearsal agent pointed at it (its
 * chain, or a contender LLM over the same backends), both clocks reset to one origin, the agent's log captured
 * (to check that no secret leaks) and its event feed open. Everything it starts is stopped by `close()`.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Scenario } from '../../contract/scenario/schema.js';
import { startFake, type RunningFake } from '../../fakes/openrouter/index.js';
import { startRehearsal, type RehearsalAgent, type RehearsalOptions } from '../../src/rehearsal/server.js';
import { subscribeEvents, type EventFeed } from '../../contract/event-stream.js';
import { postJson } from './http.js';

export interface RigOptions {
  scenario: Scenario;
  /** Scenario ms per wall ms, for both the fake and the agent. */
  speed: number;
  apiKey: string;
  /** The local server. `baseURL` may be the fake's own (`'fake'`), as a stand-in for faults at the local server. */
  local: { baseURL: string | 'fake'; model?: string };
  /** More agent configuration (deadlines, retry window...). */
  env?: Record<string, string>;
  contender?: RehearsalOptions['contender'];
  /** The agent's log level (captured, never printed). Default debug, so a leak anywhere in the log is caught. */
  logLevel?: string;
}

export interface Rig {
  fake: RunningFake;
  agent: RehearsalAgent;
  events: EventFeed;
  /** Everything the agent logged so far (since the last `drainOutput`). */
  output(): string;
  /** The log so far, forgotten here (a long soak checks it piece by piece instead of keeping it all). */
  drainOutput(): string;
  close(): Promise<void>;
}

export async function startRig(options: RigOptions): Promise<Rig> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const fake = await startFake({ scenario: options.scenario, speed: options.speed, log: pino({ level: 'silent' }) });
    closers.push(() => fake.close());
    let output = '';
    const capture = new Writable({
      write(chunk, _encoding, done) {
        output += String(chunk);
        done();
      },
    });
    const agent = await startRehearsal({
      speed: options.speed,
      log: pino({ level: options.logLevel ?? 'debug' }, capture),
      env: {
        OPENROUTER_API_KEY: options.apiKey,
        OPENROUTER_BASE_URL: fake.baseURL,
        LLM_MODEL: options.scenario.agent.models.join(','),
        LOCAL_LLM_BASE_URL: options.local.baseURL === 'fake' ? fake.baseURL : options.local.baseURL,
        ...(options.local.model && { LOCAL_LLM_MODEL: options.local.model }),
        ...options.env,
      },
      ...(options.contender && { contender: options.contender }),
    });
    closers.push(() => agent.close());
    // One origin for both clocks: scenario time 0 is the same wall instant in the fake and the agent.
    const origin = Date.now();
    fake.reset(origin);
    await postJson(`${agent.url}/reset`, { at: origin });
    // Not waiting for the feed to open: the agent replays every event since the reset, and its GET /events sends
    // no byte (so fetch does not resolve) until the first event or the 15 s keep-alive.
    const events = subscribeEvents(`${agent.url}/events`);
    closers.push(() => events.close());
    const drainOutput = () => {
      const text = output;
      output = '';
      return text;
    };
    return { fake, agent, events, output: () => output, drainOutput, close };
  } catch (error) {
    await close();
    throw error;
  }
}
