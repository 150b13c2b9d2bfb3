/**
 * Rehearsal mode's HTTP API, for the scenario runner and for people:
 *   POST /turns {"text": "..."}   a user turn ends now (202)
 *   GET  /events                   server-sent events: every AgentEvent since the last reset (or after Last-Event-ID /
 *                                  ?since=<id>), in bounded pages, then live (event-history.ts)
 *   POST /reset {"at"?: epochMs}   scenario time 0 := that wall instant (default now); forget events and cooldowns
 *   GET  /healthz, GET /llm/status, GET /metrics
 */
import express, { type Request, type Response } from 'express';
import { originProblem, ScaledClock, type RehearsalClock } from '../../contract/clock.js';
import { latenessReport, processLateness, sinceParam } from '../../contract/lateness.js';
import { adminGuard, requireMediaType } from '../../contract/local-api.js';
import { loadConfig, type Config } from '../config.js';
import type { llm } from '@livekit/agents';
import type { AttemptRunner } from '../chain/attempt.js';
import { backendsFrom, type Backend } from '../chain/backends.js';
import { createChain, sharedCooldownsFor } from '../chain/create.js';
import type { SharedCooldowns } from '../chain/shared-cooldowns.js';
import { AgentEvents } from '../chain/events.js';
import { probeBackends } from '../chain/probe.js';
import { createLogger, logEvents, type Logger } from '../observability/log.js';
import { listen } from '../observability/listen.js';
import { collectMetrics, collectSharedMetrics } from '../observability/metrics.js';
import { EventHistory, MAX_SUBSCRIBERS } from './event-history.js';
import { BODY_LIMIT_BYTES, jsonErrors, notFound } from './http-errors.js';
import { orderLookupTool } from './order-lookup.js';
import { startRehearsalSession, type RehearsalSession } from './session.js';
import type { ChainLLM } from '../chain/chain-llm.js';
import { isHoldlineLLM } from '../package/holdline-llm.js';
import { contextFrom, loadAgentModule } from './agent-module.js';

export interface RehearsalOptions {
  env?: NodeJS.ProcessEnv;
  port?: number;
  host?: string;
  speed?: number;
  /** A clock shared with other participants in this process (an AutoClock, to skip idle time); wins over `speed`. */
  clock?: RehearsalClock;
  log?: Logger;
  /** Replaces HTTP attempts (tests of the API without a backend). */
  runAttempt?: AttemptRunner;
  /** A user's agent module (agent-module.ts) to rehearse instead of holdline's own agent. */
  agentModule?: string;
  /**
   * Replaces holdline's chain with another LLM over the same backends, for side-by-side benchmarks
   * (bench/failover). Everything else (session, speech, events) stays the same.
   */
  contender?: {
    llm: (deps: { config: Config; backends: Backend[] }) => llm.LLM;
    llmConnOptions?: { maxRetry?: number; retryIntervalMs?: number; timeoutMs?: number };
  };
}

export interface RehearsalAgent {
  url: string;
  port: number;
  config: Config;
  clock: RehearsalClock;
  close(): Promise<void>;
}

/** A subscriber this far behind (bytes written but not yet taken by its socket) is dropped; it may resume. */
const SUBSCRIBER_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export async function startRehearsal(options: RehearsalOptions = {}): Promise<RehearsalAgent> {
  const config = loadConfig(options.env ?? process.env);
  const log = options.log ?? createLogger(config.logLevel);
  for (const warning of config.warnings) log.warn(warning);

  const clock: RehearsalClock = options.clock ?? new ScaledClock(options.speed ?? 1);
  // For GET /lateness: how long this process could not run (on wall time; virtual time needs no excuse).
  if (Number.isFinite(clock.speed)) processLateness();
  const events = new AgentEvents(clock);
  const history = new EventHistory();
  const subscribers = new Set<(frame: string) => void>();
  let openStreams = 0;
  events.subscribe((event) => {
    const frame = history.push(event);
    for (const send of subscribers) send(frame);
  });
  const stopLog = logEvents(events, log);
  const metrics = collectMetrics(events);
  // REDIS_URL: the rehearsal agent shares its cooldowns like a production job (a fleet rehearsal's calls).
  const shared = options.agentModule ? undefined : sharedCooldownsFor(config, clock, log);
  if (shared) collectSharedMetrics(metrics.registry, shared);
  const { session, chain } = await startSession(options, config, clock, events, log, shared);
  let closed = false;
  events.subscribe((event) => {
    if (event.type === 'close') closed = true;
  });

  if (chain && !options.agentModule) {
    void probeBackends(config, chain.options.backends).then((results) => {
      for (const r of results) (r.reachable ? log.info : log.warn).call(log, { backend: r.backend, detail: r.detail }, r.reachable ? 'backend reachable' : 'backend unreachable');
    });
  }

  const host = options.host ?? '127.0.0.1';
  const app = express();
  app.disable('x-powered-by');
  // Like the fake's control API: no page on another site may reset the agent or speak a turn (contract/local-api.ts).
  const errorBody = (text: string) => ({ error: text });
  app.use(adminGuard({ host, healthPath: '/healthz' }, errorBody));
  app.post(['/turns', '/reset'], requireMediaType(['application/json'], { emptyAllowed: true }, errorBody));
  app.use(express.json({ limit: BODY_LIMIT_BYTES }));

  app.post('/turns', async (req: Request, res: Response) => {
    const text = (req.body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || text.trim() === '') {
      res.status(400).json({ error: 'expected a JSON body like {"text": "What is the capital of France?"}' });
      return;
    }
    if (closed) {
      res.status(409).json({ error: 'the session has closed; restart the agent' });
      return;
    }
    const at = Math.round(clock.now());
    await session.userTurn(text);
    res.status(202).json({ accepted: true, at });
  });

  app.get('/events', (req: Request, res: Response) => {
    const after = resumeAfter(req);
    if (after === undefined) {
      res.status(400).json({ error: 'expected Last-Event-ID or ?since= to be an event id (a whole number)' });
      return;
    }
    if (openStreams >= MAX_SUBSCRIBERS) {
      res.status(503).json({ error: `already ${MAX_SUBSCRIBERS} event streams open; close one and retry` });
      return;
    }
    openStreams++;
    res.on('close', () => openStreams--);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Headers now, not with the first event: a subscriber connecting before anything happened must not wait.
    res.flushHeaders();
    const replay = history.replay(after);
    if (replay.text) res.write(replay.text);
    if (replay.remaining > 0) {
      // One page per connection: the subscriber comes back with the last id it got.
      res.end(`event: more\ndata: ${JSON.stringify({ remaining: replay.remaining })}\n\n`);
      return;
    }
    const send = (frame: string) => {
      if (res.writableLength > SUBSCRIBER_MAX_BUFFERED_BYTES) res.destroy(); // not reading: its buffer must not grow forever
      else res.write(frame);
    };
    subscribers.add(send);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    // The response's close (the client went away), not the request's (which fires once its body was read).
    res.on('close', () => {
      clearInterval(keepAlive);
      subscribers.delete(send);
    });
  });

  app.post('/reset', async (req: Request, res: Response) => {
    const at = (req.body as { at?: unknown } | undefined)?.at;
    const problem = at === undefined ? undefined : originProblem(at);
    if (problem) {
      res.status(400).json({ error: problem });
      return;
    }
    await session.interrupt();
    clock.resetTo(typeof at === 'number' ? at : Date.now());
    history.clear();
    chain?.reset();
    res.json({ originEpochMs: clock.origin, speed: clock.speed });
  });

  app.get('/lateness', (req, res) => {
    const since = sinceParam(req.query.since);
    if (since === undefined) {
      res.status(400).json({ error: 'expected ?since=<epoch ms>' });
      return;
    }
    res.json(latenessReport(processLateness(), since));
  });
  // `redis` with REDIS_URL: 'disconnected' once neither of its connections is up (a rehearsal that kills Redis waits for it).
  app.get('/healthz', (_req, res) =>
    res.json({ status: 'ok', speed: clock.speed, originEpochMs: clock.origin, ...(shared && { redis: shared.disconnected ? 'disconnected' : 'connected' }) }),
  );
  app.get('/llm/status', async (_req, res) => {
    await chain?.syncShared(); // with REDIS_URL: what the fleet knows now, not at this call's last decision
    res.json({ at: Math.round(clock.now()), backends: chain?.status() ?? [], usage: chain?.usageTotals() ?? [] });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(notFound);
  app.use(jsonErrors(log));

  const { server, port } = await listen(app, options.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url, port, speed: clock.speed }, 'rehearsal agent listening');

  return {
    url,
    port,
    config,
    clock,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await session.close();
      metrics.stop();
      await shared?.close();
      stopLog();
    },
  };
}

/** The id a subscriber last saw: `Last-Event-ID` (EventSource's reconnect) or `?since=`; 0 when neither; undefined when unreadable. */
function resumeAfter(req: Request): number | undefined {
  const given = req.get('last-event-id') ?? (typeof req.query.since === 'string' ? req.query.since : undefined);
  if (given === undefined || given === '') return 0;
  return /^\d{1,15}$/.test(given) ? Number(given) : undefined;
}

/**
 * holdline's agent on its chain (or a benchmark's contender LLM), or the user's agent module on whatever LLM it
 * brought. `chain` is the chain in use, when it is holdline's: the one `/reset` and `/llm/status` talk to.
 */
async function startSession(
  options: RehearsalOptions,
  config: Config,
  clock: RehearsalClock,
  events: AgentEvents,
  log: Logger,
  shared?: SharedCooldowns,
): Promise<{ session: RehearsalSession; chain: ChainLLM | undefined }> {
  const common = { clock, events, instructions: config.voice.instructions, onError: (error: { type: string; message: string; recoverable: boolean }) => log.warn(error, 'session reported an error') };
  if (options.agentModule) {
    const agent = await loadAgentModule(options.agentModule, contextFrom(config), { clock, events });
    const chain = isHoldlineLLM(agent.llm) ? agent.llm : undefined;
    if (!chain && clock.speed !== 1) {
      log.warn({ speed: clock.speed }, "the agent's LLM is not holdline's chain: its own timeouts and retries run on wall time, so at this speed they are not compressed like the scenario; rehearse it at --speed 1 for a true timeline");
    }
    log.info({ module: options.agentModule, llm: agent.llm?.label(), holdlineChain: chain !== undefined }, 'rehearsing the agent module');
    return { session: await startRehearsalSession({ ...common, agent: { agent, trackTurns: !chain } }), chain };
  }
  const chain = createChain(config, clock, events, options.runAttempt, shared);
  const session = await startRehearsalSession({
    ...common,
    llm: options.contender ? options.contender.llm({ config, backends: backendsFrom(config) }) : chain,
    ...(options.contender?.llmConnOptions && { llmConnOptions: options.contender.llmConnOptions }),
    ...(config.rehearsalTool === 'order-lookup' && { tools: { lookup_order: orderLookupTool(events) } }),
  });
  return { session, chain };
}
