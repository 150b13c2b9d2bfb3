/**
 * What Redis adds to one decision when the fleet is not also competing for the cores: one process, one store, the
 * decision an attempt on a `:free` model makes (what the fleet changed, from the store's mirror, then its booking: a
 * `:free` slot, one round trip), timed on the wall clock one after another. bench:fleet runs it after its fleets are
 * stopped, beside the fleet's own histogram, so the two say apart what Redis costs and what a loaded machine adds to it.
 *
 * Then where that time goes, layer by layer, each timed the same way and turn about with the decisions (a decision, the
 * script, a PING, again: each meets the same machine): Redis's own time running the booking script (its `INFO
 * latencystats`, server side), the same script through ioredis without the store around it, a PING through ioredis
 * (the round trip's floor through the library), what a decision took beyond the script timed next to it (the store's
 * own share), and how many of the slowest decisions a garbage collection overlapped (the process's own pauses) beside
 * the event loop's delay (the machine not giving it a core).
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { ScaledClock } from '../../contract/clock.js';
import { SharedCooldowns } from '../../src/chain/shared-cooldowns.js';
import { BOOK_SCRIPT } from '../../src/chain/shared-scripts.js';

interface Quantiles {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AloneResult extends Quantiles {
  decisions: number;
  /** Where a decision's time goes (see the file's comment). */
  layers?: {
    /** Redis running the booking script, server side (INFO latencystats: its own percentiles, µs resolution). */
    serverScript: { p50Ms: number; p99Ms: number };
    ioredisScript: Quantiles;
    ioredisPing: Quantiles;
    /** Each decision's span less the script's timed right after it (ms; below 0 when the script's was the slower). */
    storeOver: { p50Ms: number; p99Ms: number };
    /** Of the slowest 1 % of decisions, how many a garbage collection of this process overlapped. */
    slowestWithGc: string;
    eventLoopDelayP99Ms: number;
  };
}

const WARM_UP = 200;

export async function redisAlone(url: string, apiKey: string, models: string[], decisions = 2_000): Promise<AloneResult> {
  const clock = new ScaledClock(1);
  // A budget no run reaches: every slot is granted, so each decision makes both of its calls.
  // A patient deadline: this measures what Redis takes, so no call may be cut short (and the next ones skipped).
  const store = new SharedCooldowns({ redis: url, apiKey, clock, freePerMinute: 1_000_000, deadlineMs: 1_000 });
  const admin = new Redis(url, { lazyConnect: true });
  const gcs: { start: number; end: number }[] = [];
  const gcWatch = new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => ({ start: e.startTime, end: e.startTime + e.duration }))));
  try {
    store.watch({ models, local: () => new Map() });
    // Following Redis (subscribed, first snapshot read): decisions read the mirror, as a running agent's do.
    await new Promise<void>((resolve) => (store.mirror.live ? resolve() : store.mirror.once('live', () => resolve())));
    await admin.connect();
    const free = models.find((m) => m.endsWith(':free')) ?? (models[0] as string);
    const decide = async () => {
      // As a turn's decision reads the mirror (chain-llm.ts, syncSharedAtOnce): at once, awaited only when a round trip is due.
      if (store.changesAtOnce() === false) await store.changes();
      await store.book(free, { leaseEnd: clock.now() + 10_000, free: true });
    };
    // The same script through the library alone, on a connection of its own (its keys are scratch, flushed after).
    const sha = String(await admin.script('LOAD', BOOK_SCRIPT));
    let n = 0;
    const now = () => Math.round(clock.toEpochMs(clock.now()));
    const script = () =>
      admin.evalsha(sha, 4, 'alone:r', 'alone:v', 'alone:f', 'alone:d', 'alone:ch', free, now(), now() + 10_000, 'alone', 1, 61_000, 1_000_000, `m${++n}`, 0, 86_400_000, 0);
    const ping = () => admin.ping();
    // Loaded script, warm JIT: the first calls compile both, which no running agent pays per decision.
    await interleaved(WARM_UP, [decide, script, ping]);
    await admin.config('RESETSTAT');
    gcWatch.observe({ entryTypes: ['gc'] });
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    // Turn about, not one layer after another: on a shared machine a layer timed alone for its second meets another
    // load than the next one, and the difference between them says more of that than of the layers.
    const [spans, ioredisScript, ioredisPing] = (await interleaved(decisions, [decide, script, ping])) as [Span[], Span[], Span[]];
    loop.disable();
    gcWatch.disconnect();
    // Both connections' runs of the booking script (the store's and the library's alone): the same script, keys apart.
    const serverScript = serverPercentiles(await admin.info('latencystats'), 'evalsha');
    const slowest = [...spans].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, Math.max(1, Math.ceil(spans.length / 100)));
    const withGc = slowest.filter((s) => gcs.some((g) => g.start < s.end && g.end > s.start)).length;
    return {
      decisions,
      ...quantiles(spans),
      layers: {
        serverScript,
        ioredisScript: quantiles(ioredisScript),
        ioredisPing: quantiles(ioredisPing),
        storeOver: percentiles(spans.map((s, i) => s.end - s.start - ((ioredisScript[i] as Span).end - (ioredisScript[i] as Span).start))),
        slowestWithGc: `${withGc} of ${slowest.length}`,
        eventLoopDelayP99Ms: round(loop.percentile(99) / 1e6),
      },
    };
  } finally {
    gcWatch.disconnect();
    await store.client.flushall().catch(() => undefined);
    admin.disconnect();
    await store.close();
  }
}

interface Span {
  start: number;
  end: number;
}

/** `runs` rounds of every call in `calls`, one after another: each call's wall spans, in the order of `calls`. */
async function interleaved(runs: number, calls: (() => Promise<unknown>)[]): Promise<Span[][]> {
  const spans: Span[][] = calls.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, run] of calls.entries()) {
      const start = performance.now();
      await run();
      spans[k]?.push({ start, end: performance.now() });
    }
  }
  return spans;
}

function quantiles(spans: Span[]): Quantiles {
  const times = spans.map((s) => s.end - s.start);
  return { ...percentiles(times), maxMs: round(Math.max(...times)) };
}

function percentiles(values: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number);
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** Redis 7's `latency_percentiles_usec_<command>:p50=…,p99=…` line, in ms. */
function serverPercentiles(info: string, command: string): { p50Ms: number; p99Ms: number } {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`latency_percentiles_usec_${command}:`)) ?? '';
  const value = (p: string) => round(Number(new RegExp(`${p}=([0-9.]+)`).exec(line)?.[1] ?? NaN) / 1000);
  return { p50Ms: value('p50'), p99Ms: value('p99') };
}

const round = (ms: number) => Number(ms.toFixed(3));
