/**
 * A closed-loop load generator: `concurrency` workers, each sending its next request as soon as the previous one
 * finished, until `requests` are done or `maxMs` has passed. Plain node:http with a keep-alive agent, so the client
 * costs as little as possible and the server is what gets measured.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { round2, summary } from './stats.js';

export interface LoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
}

export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  concurrency: number;
  /** Requests to send (after warm-up). */
  requests: number;
  /** Stop early after this many wall ms. */
  maxMs: number;
  /** Requests sent first and not measured. */
  warmup: number;
}

function post(agent: Agent, options: LoadOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(options.url, { method: 'POST', agent, headers: options.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(options.body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    for (let i = 0; i < options.warmup; i += options.concurrency) {
      await Promise.all(Array.from({ length: options.concurrency }, () => post(agent, options)));
    }
    const latencies: number[] = [];
    let errors = 0;
    let issued = 0;
    const start = performance.now();
    const worker = async () => {
      while (issued < options.requests && performance.now() - start < options.maxMs) {
        issued++;
        const t0 = performance.now();
        const ok = await post(agent, options);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const elapsedS = (performance.now() - start) / 1000;
    return {
      concurrency: options.concurrency,
      requests: latencies.length,
      errors,
      requestsPerSecond: round2(latencies.length / elapsedS),
      latencyMs: summary(latencies),
    };
  } finally {
    agent.destroy();
  }
}
