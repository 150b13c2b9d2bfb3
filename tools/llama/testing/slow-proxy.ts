/**
 * A "slow to first token" local model for tests: a tiny HTTP proxy in front of a llama-server that holds
 * back the response of each completion request for `firstByteDelayMs` (measured from when the request
 * arrived), then passes it through unchanged, streaming included. /health and everything else pass at once,
 * so the agent's health checks see a healthy server while its completions are slow.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../../contract/clock.js';

export interface SlowProxyOptions {
  /** Root URL of the server to forward to, e.g. a LlamaServer's `url` (http://127.0.0.1:PORT). */
  target: string;
  /** Milliseconds from a completion request's arrival to the first byte of its response. */
  firstByteDelayMs: number;
  /** Which request paths are delayed. Default: chat and text completions. */
  delayPath?: RegExp;
  /** Clock to wait on (scenario milliseconds, so `--speed N` compresses the delay). Default: wall time. */
  clock?: Clock;
  /** Port on 127.0.0.1. Default: any free one. */
  port?: number;
}

export interface SlowProxy {
  /** OpenAI-compatible base URL of the proxy, `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  /** Root URL of the proxy. */
  url: string;
  port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const COMPLETIONS = /\/(chat\/)?completions$/;

/** Starts the proxy. */
export async function startSlowProxy(options: SlowProxyOptions): Promise<SlowProxy> {
  const { target, firstByteDelayMs, delayPath = COMPLETIONS, clock, port = 0 } = options;
  const upstream = new URL(target);
  const wait = (ms: number, signal: AbortSignal): Promise<unknown> =>
    clock ? clock.sleep(ms, signal) : sleep(ms, undefined, { signal });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const delayed = delayPath.test(new URL(req.url ?? '/', 'http://x').pathname) ? wait(firstByteDelayMs, gone.signal) : Promise.resolve();
    delayed.catch(() => {}); // rejects only when the client left; nothing to answer then
    // Forward at once so the server works during the delay; only its answer is held back.
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, signal: gone.signal },
      (answer) => {
        delayed.then(
          () => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
          () => answer.destroy(),
        );
      },
    );
    forward.once('error', (error) => {
      if (gone.signal.aborted) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `slow proxy: upstream failed: ${error.message}` } }));
    });
    req.pipe(forward);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actual}`;
  return {
    baseURL: `${url}/v1`,
    url,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
