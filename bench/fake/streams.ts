/**
 * Many concurrent streams against a reply scripted at a known ttft and rate, timing every content chunk as it
 * arrives. Reports how far the observed first token is from the script (ttft error), how far each inter-token gap
 * is from 1 / tokensPerSecond (gap error), and how late each token is against its scripted instant (lateness).
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { summary } from './stats.js';

export interface StreamOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  streams: number;
  ttftMs: number;
  tokensPerSecond: number;
}

export interface StreamResult {
  streams: number;
  completed: number;
  tokensPerStream: number;
  /** From when the client sent the request. */
  ttftErrorMs: { p50: number; p99: number };
  /**
   * From when the fake received it: the fake sends the status line and SSE headers the moment it has read the
   * request (as OpenRouter does), so the first token's arrival minus the headers' arrival is its own ttft.
   */
  ttftFromReceiptErrorMs: { p50: number; p99: number };
  gapErrorMs: { p50: number; p99: number };
  latenessMs: { p50: number; p99: number };
}

interface Timed {
  /** Arrival times (ms since the request was sent) of each content chunk. */
  times: number[];
  /** When the response headers arrived (ms since the request was sent). */
  headersAt: number;
}

/** When each content chunk of one stream arrived; null if it failed. */
function oneStream(agent: Agent, options: StreamOptions): Promise<Timed | null> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const times: number[] = [];
    let headersAt = NaN;
    let buffer = '';
    const req = request(options.url, { method: 'POST', agent, headers: options.headers }, (res) => {
      headersAt = performance.now() - t0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now() - t0;
        buffer += chunk;
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          if (block.startsWith('data: {') && block.includes('"content":"') && !block.includes('"content":""')) times.push(now);
        }
      });
      res.on('end', () => resolve(res.statusCode === 200 && buffer.length === 0 ? { times, headersAt } : null));
      res.on('error', () => resolve(null));
    });
    req.on('error', () => resolve(null));
    req.end(options.body);
  });
}

/** Opens `count` keep-alive connections first, so the measured streams do not pay for TCP connects. */
function warmUp(agent: Agent, options: StreamOptions, count: number): Promise<unknown> {
  const body = JSON.stringify({ ...(JSON.parse(options.body) as object), stream: false });
  return Promise.all(
    Array.from({ length: count }, () => new Promise<void>((resolve) => {
      const req = request(options.url, { method: 'POST', agent, headers: options.headers }, (res) => res.resume().on('end', resolve));
      req.on('error', () => resolve());
      req.end(body);
    })),
  );
}

export async function runStreams(options: StreamOptions): Promise<StreamResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.streams });
  try {
    await warmUp(agent, options, options.streams);
    const results = await Promise.all(Array.from({ length: options.streams }, () => oneStream(agent, options)));
    const ok = results.filter((r): r is Timed => r !== null);
    const intervalMs = 1000 / options.tokensPerSecond;
    const ttftErrors: number[] = [];
    const fromReceipt = ok.flatMap(({ times, headersAt }) => (times[0] === undefined ? [] : [times[0] - headersAt - options.ttftMs]));
    const gapErrors: number[] = [];
    const lateness: number[] = [];
    for (const { times } of ok) {
      times.forEach((t, i) => {
        lateness.push(t - (options.ttftMs + i * intervalMs));
        if (i === 0) ttftErrors.push(t - options.ttftMs);
        else gapErrors.push(t - (times[i - 1] as number) - intervalMs);
      });
    }
    return {
      streams: options.streams,
      completed: ok.length,
      tokensPerStream: ok[0]?.times.length ?? 0,
      ttftErrorMs: summary(ttftErrors),
      ttftFromReceiptErrorMs: summary(fromReceipt),
      gapErrorMs: summary(gapErrors),
      latenessMs: summary(lateness),
    };
  } finally {
    agent.destroy();
  }
}
