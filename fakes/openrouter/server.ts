/**
 * Starting and stopping the fake from code (the harness, tests, the CLI):
 *
 *   const fake = await startFake({ scenario: 'rate-limit-storm', speed: 20 });
 *   new OpenAI({ baseURL: fake.baseURL, apiKey: 'sk-or-v1-fake' });
 *   ...
 *   fake.journal(); fake.reset(); await fake.close();
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { processLateness } from '../../contract/lateness.js';
import { ScaledClock, type RehearsalClock } from '../../contract/clock.js';
import type { Journal } from '../../contract/journal.js';
import { resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { createApp } from './app.js';
import { isLoopback } from '../../contract/local-api.js';
import { fastChat } from './routes/fast-chat.js';
import { FakeState, type FakeEvents } from './state.js';

export const DEFAULT_HOST = '127.0.0.1';
/** Default chat body limit: 4 MiB, far above a voice agent's context, far below memory trouble. */
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface FakeOptions {
  /** A parsed scenario, a library name (`rate-limit-storm`) or a path to a scenario file. */
  scenario: Scenario | string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Scenario ms per wall ms: 20 plays a 2 s ttft in 100 ms. Default 1. */
  speed?: number;
  /** A clock shared with other participants in this process (an AutoClock, to skip idle time); wins over `speed`. */
  clock?: RehearsalClock;
  /** Epoch ms of scenario time 0, to share an origin with another process. Default: when the server is listening. */
  originEpochMs?: number;
  /** Largest chat request body in bytes; larger gets 413. Default 4 MiB. */
  bodyLimitBytes?: number;
  /** Where unexpected errors are logged. Default: pino to stderr at level warn. */
  log?: Logger;
  /**
   * Required as `Authorization: Bearer <token>` on the control API (`/__fake/*` but `GET /__fake/health`).
   * Default: none, which is only safe on the loopback (a warning says so when bound elsewhere).
   */
  adminToken?: string;
}

export interface RunningFake {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `http://127.0.0.1:<port>/api/v1`: what `OPENROUTER_BASE_URL` (or the openai client's `baseURL`) should be. */
  baseURL: string;
  port: number;
  host: string;
  clock: RehearsalClock;
  /** `decided` (a chat request's fault was chosen) and `closed` (a request ended), each with its journal entry. */
  events: FakeEvents;
  /** Scenario time 0 becomes `atEpochMs` (default now); counters and journal start over. */
  reset(atEpochMs?: number): void;
  /** Swaps the scenario live (counters, journal and clock carry on). */
  setScenario(scenario: Scenario): void;
  journal(): Journal;
  /** Stops listening and ends every open request, stream and hanging socket. Idempotent. */
  close(): Promise<void>;
}

export async function startFake(options: FakeOptions): Promise<RunningFake> {
  const scenario = typeof options.scenario === 'string' ? loadScenarioFile(resolveScenario(options.scenario)) : options.scenario;
  const host = options.host ?? DEFAULT_HOST;
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const log = options.log ?? pino({ level: 'warn' }, pino.destination(2));

  const clock: RehearsalClock = options.clock ?? new ScaledClock(options.speed ?? 1, options.originEpochMs ?? Date.now());
  // Measuring from now on, for GET /__fake/lateness; on virtual time a stall cannot move an instant, and a
  // probe every 10 ms would only keep the clock's idle check busy.
  if (Number.isFinite(clock.speed)) processLateness();
  const state = new FakeState(scenario, clock);
  const adminToken = options.adminToken === '' ? undefined : options.adminToken;
  const app = createApp(state, { bodyLimitBytes, log, admin: { host, ...(adminToken !== undefined && { adminToken }) } });
  const chat = fastChat(state, { bodyLimitBytes, log });
  // Plain chat requests skip express (routes/fast-chat.ts says why); everything else is the express app's.
  const server = createServer((req, res) => {
    if (!chat(req, res)) app(req, res);
  });
  await listen(server, options.port ?? 0, host);
  if (options.originEpochMs === undefined) clock.resetTo(Date.now());

  const port = (server.address() as AddressInfo).port;
  if (!isLoopback(host) && adminToken === undefined) {
    log.warn(
      { host, port },
      'the control API (/__fake: reset, scenario, journal) is unauthenticated and reachable beyond this machine; anyone who can reach the port can reset the fake or read its journal. Bind 127.0.0.1, or set --admin-token / HOLDLINE_FAKE_ADMIN_TOKEN',
    );
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    baseURL: `${url}/api/v1`,
    port,
    host,
    clock,
    events: state.events,
    reset: (atEpochMs) => state.reset(atEpochMs),
    setScenario: (s) => state.setScenario(s),
    journal: () => state.journalSnapshot(),
    close: () => (closing ??= stop(server, state)),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stop(server: Server, state: FakeState): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    state.abortAll();
    // Streams, stalls and hangs keep their sockets open by design; close() must not wait for clients to give up.
    server.closeAllConnections();
  });
}
