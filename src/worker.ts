/**
 * Production: a LiveKit worker (`npm start`, `npm run dev`). Each job joins a room with the same agent,
 * chain and policy that rehearsal mode runs: STT and TTS through OpenAI-compatible endpoints, Silero VAD,
 * and holdline's chain as the LLM. Where HTTP_PORT is set, the worker's main process serves `/llm/status`,
 * `/metrics` and `/healthz` for all its jobs: LiveKit runs each job in its own process, and each job process
 * reports to the main one (observability/fleet.ts says how, and why not through Redis).
 */
import 'dotenv/config';
import { cli, defineAgent, ServerOptions, voice, type JobContext, type JobProcess } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import * as silero from '@livekit/agents-plugin-silero';
import express from 'express';
import { fileURLToPath } from 'node:url';
import { ScaledClock } from '../contract/clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createChain, sharedCooldownsFor } from './chain/create.js';
import { AgentEvents } from './chain/events.js';
import { probeBackends } from './chain/probe.js';
import { createLogger, logEvents } from './observability/log.js';
import { FLEET_TOKEN_ENV, FLEET_URL_ENV, FleetView, fleetRouter, jobState, newReportToken, startJobReporter } from './observability/fleet.js';
import { listen } from './observability/listen.js';
import { collectMetrics, collectSharedMetrics } from './observability/metrics.js';
import { describeSessionError } from './voice/session-errors.js';
import { HoldlineAgent } from './voice/agent.js';

export default defineAgent({
  prewarm: async (proc: JobProcess) => {
    proc.userData.vad = await silero.VAD.load();
  },
  entry: async (ctx: JobContext) => {
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    for (const warning of config.warnings) log.warn(warning);
    const clock = new ScaledClock(1);
    const events = new AgentEvents(clock);
    logEvents(events, log);
    const metrics = collectMetrics(events);
    // REDIS_URL: this job's cooldowns are the fleet's (every job process on the key reads and writes them).
    const shared = sharedCooldownsFor(config, clock, log);
    if (shared) collectSharedMetrics(metrics.registry, shared);
    // LiveKit runs shutdown callbacks at once: one callback orders them, so the last report reads Redis before it
    // closes (not a false "redis did not answer" at the end of every call).
    const shutdown: (() => Promise<void>)[] = [];
    ctx.addShutdownCallback(async () => {
      for (const step of shutdown) await step().catch(() => {});
      await shared?.close();
    });
    const chain = createChain(config, clock, events, undefined, shared);
    void probeBackends(config, chain.options.backends).then((results) => {
      for (const r of results) log.info({ backend: r.backend, reachable: r.reachable, detail: r.detail }, 'backend probe');
    });

    const fleetUrl = process.env[FLEET_URL_ENV];
    const fleetToken = process.env[FLEET_TOKEN_ENV];
    if (fleetUrl && fleetToken) {
      // The worker's main process serves this job's metrics and status with all the others'.
      const reporter = startJobReporter({ url: fleetUrl, token: fleetToken, job: ctx.job.id, registry: metrics.registry, state: () => jobState(chain, clock), log });
      shutdown.push(() => reporter.stop());
    } else if (config.http.port !== undefined) {
      // A job started without the worker's main process of this file (another launcher): it serves its own.
      const app = express();
      app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
      app.get('/llm/status', async (_req, res) => {
        await chain.syncShared(); // with REDIS_URL: what the fleet knows now
        res.json({ backends: chain.status(), usage: chain.usageTotals() });
      });
      app.get('/metrics', async (_req, res) => res.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
      const server = app.listen(config.http.port, config.http.host);
      server.on('error', (error) => log.warn({ error: error.message }, 'status server not started'));
      ctx.addShutdownCallback(async () => void server.close());
    }

    await ctx.connect();
    const session = new voice.AgentSession({
      vad: ctx.proc.userData.vad as silero.VAD,
      stt: new openai.STT({ baseURL: config.voice.stt.baseURL, model: config.voice.stt.model, apiKey: config.voice.stt.apiKey ?? 'unset' }),
      tts: new openai.TTS({
        baseURL: config.voice.tts.baseURL,
        model: config.voice.tts.model,
        voice: config.voice.tts.voice as openai.TTSOptions['voice'],
        apiKey: config.voice.tts.apiKey ?? 'unset',
      }),
      llm: chain,
    });
    // Without a listener Node throws on the session's 'error' events, cutting STT/TTS retries short.
    session.on(voice.AgentSessionEventTypes.Error, (ev) => log.warn(describeSessionError(ev.error), 'session reported an error'));
    await session.start({ agent: new HoldlineAgent({ instructions: config.voice.instructions }), room: ctx.room });
  },
});

// Validate before the worker starts, so a bad environment is one clear message, not a crash per job.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const config = loadConfig();
  await serveFleet(config);
  // LiveKit's own health server binds every interface unless told (0.0.0.0:8081 with `npm start`): HTTP_HOST, as
  // holdline's server does; WORKER_PORT lets a second worker on one machine take another port (the default one
  // taken, LiveKit's server throws EADDRINUSE unhandled and the worker dies).
  cli.runApp(new ServerOptions({ agent: fileURLToPath(import.meta.url), host: config.http.host, ...(config.workerPort !== undefined && { port: config.workerPort }) }));
}

/**
 * The worker's `/metrics`, `/llm/status` and `/healthz` on HTTP_PORT, for all its jobs. Before LiveKit forks any job
 * process: they inherit where to report (and the token) through the environment.
 */
async function serveFleet(config: Config): Promise<void> {
  const wanted = config.http.port;
  if (wanted === undefined) return;
  const log = createLogger(config.logLevel);
  const token = newReportToken();
  const app = express();
  app.use(fleetRouter(new FleetView(Date.now, log), token, log));
  const { port } = await listen(app, wanted, config.http.host).catch((error: Error) => {
    // Not a warning to run on without: every job would then try HTTP_PORT itself (one serving only its own call, its
    // counters gone when it hangs up), and a fleet asked to be watched would not be. Another worker holds the port.
    console.error(`HTTP_PORT ${wanted} on ${config.http.host}: the worker's status server could not listen (${error.message}); another worker holds it? Give each worker its own HTTP_PORT.`);
    process.exit(1);
  });
  // Jobs are on this machine: they reach a wildcard bind through loopback.
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  process.env[FLEET_URL_ENV] = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  process.env[FLEET_TOKEN_ENV] = token;
  log.info({ port }, 'worker status server: /metrics and /llm/status for all jobs');
}
