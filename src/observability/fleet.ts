/**
 * One `/metrics` and one `/llm/status` per worker, covering all its jobs. LiveKit runs each job (each call) in its own
 * process, forked by the worker's main process; only the main process lives as long as the worker, so it serves the
 * endpoints on `HTTP_PORT`, and each job process pushes its state there over loopback HTTP.
 *
 * Why the main process, not Redis: it works without `REDIS_URL` (a fleet that shares nothing still wants to be
 * watched), it keeps Redis out of everything but cooldowns (Redis is help, never a dependency), and one scrape target
 * per worker is Prometheus's own model (the fleet's sum is `sum()` over workers).
 * Why push, not pull: a finished job's counters must outlive its process (a Prometheus counter never goes back), so
 * each job sends a final report as it shuts down; the main process folds finished jobs into one "retired" snapshot
 * (bounded memory, however many calls the worker served). Between reports a scrape is at most `REPORT_EVERY_MS` old.
 *
 * Aggregation is prom-client's own (`AggregatorRegistry.aggregate`, the cluster-mode pattern without `cluster`):
 * counters and histograms are summed per label set. A job's gauges describe a live process, so a retired job's are
 * dropped. The push endpoint takes a per-worker random token (inherited by the job processes through the environment):
 * another local user cannot feed it.
 */
import express, { type Request, type Response, type Router } from 'express';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Clock } from '../../contract/clock.js';
import type { BackendStatus, ChainLLM, UsageRow } from '../chain/chain-llm.js';
import type { Logger } from './log.js';

/** How often a job process reports (wall ms); a scrape sees at most this old a job's live counters. */
export const REPORT_EVERY_MS = 1_000;
/** A job that has not reported for this long (wall ms) died without its final report: it is retired as last seen. */
export const JOB_SILENT_MS = 15_000;
/** A report's largest body: a job's metrics are a few kilobytes; this bounds what the endpoint buffers. */
const REPORT_LIMIT = '256kb';
/** Finished jobs remembered so a late report is ignored. */
const RETIRED_IDS_KEPT = 10_000;

/** Where job processes find their worker's aggregator (set by the main process, inherited by forked job processes). */
export const FLEET_URL_ENV = 'HOLDLINE_FLEET_REPORT_URL';
export const FLEET_TOKEN_ENV = 'HOLDLINE_FLEET_REPORT_TOKEN';

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/** One backend as a job reports it: times in epoch ms (each job's clock has its own origin). */
export interface JobBackend {
  backend: string;
  kind: BackendStatus['kind'];
  model: string;
  ok: boolean;
  coolingUntilEpochMs?: number;
  lastError?: { class: string; detail: string; atEpochMs: number };
}

export interface JobReport {
  job: string;
  pid: number;
  metrics: MetricJson[];
  backends: JobBackend[];
  usage: UsageRow[];
  /** The job is ending: this is its last report. */
  final?: boolean;
}

const reportSchema = z.object({
  job: z.string().min(1).max(200),
  pid: z.number().int(),
  // `aggregator` says how prom-client folds a metric across jobs; one it does not know would make every scrape fail.
  metrics: z
    .array(
      z.looseObject({
        name: z.string(),
        type: z.string(),
        aggregator: z.enum(['sum', 'first', 'min', 'max', 'average', 'omit']),
        values: z.array(z.looseObject({ value: z.number() })),
      }),
    )
    .max(500),
  backends: z
    .array(
      z.object({
        backend: z.string(),
        kind: z.enum(['openrouter', 'local']),
        model: z.string(),
        ok: z.boolean(),
        coolingUntilEpochMs: z.number().optional(),
        lastError: z.object({ class: z.string(), detail: z.string(), atEpochMs: z.number() }).optional(),
      }),
    )
    .max(100),
  usage: z
    .array(z.object({ backend: z.string(), model: z.string(), requests: z.number(), promptTokens: z.number(), completionTokens: z.number(), costUsd: z.number() }))
    .max(100),
  final: z.boolean().optional(),
});

interface LiveJob {
  report: JobReport;
  seenAt: number;
}

/** The worker's view of its jobs: the live ones' last reports, and what finished ones added up to. */
export class FleetView {
  private readonly live = new Map<string, LiveJob>();
  private retiredMetrics: MetricJson[] = [];
  private readonly retiredUsage = new Map<string, UsageRow>();
  private retiredJobs = 0;
  /** Jobs already folded in (finished or silent too long): a late report from one must not count it twice. */
  private readonly retiredIds = new Set<string>();
  /** Folding into the retired snapshot is async (prom-client's JSON): scrapes wait for the folds before them. */
  private retiring: Promise<void> = Promise.resolve();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly log?: Logger,
    /** Is the job's process still running? Jobs are this worker's children, on this machine. */
    private readonly alive: (pid: number) => boolean = processAlive,
  ) {}

  accept(report: JobReport): void {
    if (this.retiredIds.has(report.job)) return;
    if (report.final) {
      this.live.delete(report.job);
      this.retire(report);
      return;
    }
    this.live.set(report.job, { report, seenAt: this.now() });
  }

  /** The Prometheus text of every job, live and finished, summed per label set. */
  async metrics(): Promise<{ contentType: string; text: string }> {
    this.retireSilent();
    await this.retiring;
    const registry = AggregatorRegistry.aggregate([this.retiredMetrics, ...[...this.live.values()].map((j) => j.report.metrics)]);
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  /**
   * Every backend as the worker's live jobs see it (cooling if any job has it cooling, until the latest end; the
   * latest error any job saw), the usage of all jobs ever, and each live job's own view.
   */
  status(): { jobs: { live: number; finished: number }; backends: JobBackend[]; usage: UsageRow[]; perJob: { job: string; pid: number; backends: JobBackend[] }[] } {
    this.retireSilent();
    const now = this.now();
    const reports = [...this.live.values()].map((j) => j.report);
    const backends = new Map<string, JobBackend>();
    for (const b of reports.flatMap((r) => r.backends)) {
      const seen = backends.get(b.backend);
      const cooling = b.coolingUntilEpochMs !== undefined && b.coolingUntilEpochMs > now ? b.coolingUntilEpochMs : undefined;
      const until = Math.max(seen?.coolingUntilEpochMs ?? -Infinity, cooling ?? -Infinity);
      const lastError = [seen?.lastError, b.lastError].filter((e) => e !== undefined).sort((x, y) => y.atEpochMs - x.atEpochMs)[0];
      backends.set(b.backend, {
        backend: b.backend,
        kind: b.kind,
        model: b.model,
        ok: until === -Infinity,
        ...(until !== -Infinity && { coolingUntilEpochMs: until }),
        ...(lastError && { lastError }),
      });
    }
    const usage = new Map<string, UsageRow>();
    for (const row of [...this.retiredUsage.values(), ...reports.flatMap((r) => r.usage)]) addUsage(usage, row);
    return {
      jobs: { live: reports.length, finished: this.retiredJobs },
      backends: [...backends.values()],
      usage: [...usage.values()],
      perJob: reports.map((r) => ({ job: r.job, pid: r.pid, backends: r.backends })),
    };
  }

  /** Folds a finished job into the retired snapshot: its counters and histograms stay, its gauges go. */
  private retire(report: JobReport): void {
    const kept = report.metrics.filter((m) => String(m.type) !== 'gauge');
    this.retiredIds.add(report.job);
    // Bounded: the oldest ids go first (a Set iterates in insertion order); a job's late report comes within seconds.
    if (this.retiredIds.size > RETIRED_IDS_KEPT) this.retiredIds.delete(this.retiredIds.values().next().value as string);
    this.retiring = this.retiring
      .then(async () => {
        this.retiredMetrics = await AggregatorRegistry.aggregate([this.retiredMetrics, kept]).getMetricsAsJSON();
      })
      // A fold that fails drops that job's counters, not every later fold and scrape.
      .catch((error: unknown) => this.log?.warn({ detail: (error as Error).message, job: report.job }, 'a finished job could not be folded into the worker metrics'));
    for (const row of report.usage) addUsage(this.retiredUsage, row);
    this.retiredJobs += 1;
  }

  /**
   * Jobs that stopped reporting (killed without a final report) are retired as last seen. One whose process still
   * runs is not: its reports are failing or late (a busy machine, a worker that stalled), and retiring it would drop
   * the rest of its call's counters, its final report's too.
   */
  private retireSilent(): void {
    const now = this.now();
    for (const [job, { report, seenAt }] of this.live) {
      if (now - seenAt < JOB_SILENT_MS || this.alive(report.pid)) continue;
      this.live.delete(job);
      this.retire(report);
    }
  }
}

/** Signal 0 asks whether the pid exists; EPERM says it does (another user's), ESRCH that it is gone. */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function addUsage(into: Map<string, UsageRow>, row: UsageRow): void {
  const sum = into.get(row.backend) ?? { backend: row.backend, model: row.model, requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
  sum.requests += row.requests;
  sum.promptTokens += row.promptTokens;
  sum.completionTokens += row.completionTokens;
  sum.costUsd += row.costUsd;
  into.set(row.backend, sum);
}

/** A fresh token for one worker's push endpoint. */
export function newReportToken(): string {
  return randomBytes(24).toString('hex');
}

/** The main process's endpoints: `POST /__holdline/jobs` (the jobs' reports), `GET /metrics`, `GET /llm/status`, `GET /healthz`. */
export function fleetRouter(view: FleetView, token: string, log?: Logger): Router {
  const router = express.Router();
  const expected = Buffer.from(`Bearer ${token}`);
  // The token first: a client without it gets its 401 before a byte of its body is read or parsed.
  const authorized = (req: Request, res: Response, next: () => void) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.status(401).json({ error: 'a job report needs the worker token' });
      return;
    }
    next();
  };
  const body = express.json({ limit: REPORT_LIMIT });
  const parsedOr400 = (req: Request, res: Response, next: () => void) =>
    body(req, res, (error?: unknown) => {
      if (!error) return next();
      // JSON, never Express's HTML error page (which carries a stack trace outside production).
      const status = (error as { status?: number }).status === 413 ? 413 : 400;
      res.status(status).json({ error: status === 413 ? `a job report is at most ${REPORT_LIMIT}` : 'a job report is JSON' });
    });
  router.post('/__holdline/jobs', authorized, parsedOr400, (req: Request, res: Response) => {
    const parsed = reportSchema.safeParse(req.body);
    if (!parsed.success) {
      log?.warn({ problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'job report refused');
      res.status(400).json({ error: 'not a job report', problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) });
      return;
    }
    view.accept(parsed.data as unknown as JobReport);
    res.status(204).end();
  });
  router.get('/metrics', async (_req, res) => {
    const { contentType, text } = await view.metrics();
    res.type(contentType).send(text);
  });
  router.get('/llm/status', (_req, res) => res.json(view.status()));
  router.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  return router;
}

export interface JobReporterOptions {
  url: string;
  token: string;
  job: string;
  registry: Registry;
  /** The job's backends and usage now (epoch ms times). */
  state: () => Promise<Pick<JobReport, 'backends' | 'usage'>>;
  everyMs?: number;
  log?: Logger;
}

/** A job process's side: reports every `everyMs` (the timer does not keep the process alive) and once more at `stop`. */
export function startJobReporter(options: JobReporterOptions): { stop: () => Promise<void>; report: () => Promise<void> } {
  let failedOnce = false;
  const send = async (final: boolean) => {
    const body: JobReport = { job: options.job, pid: process.pid, metrics: await options.registry.getMetricsAsJSON(), ...(await options.state()), ...(final && { final }) };
    try {
      const response = await fetch(`${options.url}/__holdline/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(2_000),
      });
      if (!response.ok) throw new Error(`the worker answered ${response.status}`);
      failedOnce = false;
    } catch (error) {
      // Logged once per run of failures: the worker's view is help; the call goes on.
      if (!failedOnce) options.log?.warn({ detail: (error as Error).message }, 'job report not taken by the worker');
      failedOnce = true;
    }
  };
  let chain = Promise.resolve();
  let sending = 0;
  const report = () => {
    sending++;
    return (chain = chain.then(() => send(false)).finally(() => sending--));
  };
  // A slow worker is skipped a tick, not sent a backlog: the next report carries everything anyway.
  const timer = setInterval(() => {
    if (sending === 0) void report();
  }, options.everyMs ?? REPORT_EVERY_MS);
  timer.unref();
  return {
    report,
    stop: async () => {
      clearInterval(timer);
      await chain;
      await send(true);
    },
  };
}

/** A job's chain as it reports it: what the fleet knows now (with REDIS_URL), times as epoch ms. */
export async function jobState(chain: ChainLLM, clock: Clock): Promise<Pick<JobReport, 'backends' | 'usage'>> {
  await chain.syncShared();
  const epoch = (ms: number) => Math.round(clock.toEpochMs(ms));
  const backends = chain.status().map(
    ({ coolingUntil, lastError, ...b }): JobBackend => ({
      ...b,
      ...(coolingUntil !== undefined && { coolingUntilEpochMs: epoch(coolingUntil) }),
      ...(lastError && { lastError: { class: lastError.class, detail: lastError.detail, atEpochMs: epoch(lastError.at) } }),
    }),
  );
  return { backends, usage: chain.usageTotals() };
}
