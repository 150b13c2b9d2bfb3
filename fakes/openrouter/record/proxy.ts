/**
 * The recorder: a pass-through proxy to an OpenRouter-compatible upstream. Every request under `/api/v1` goes on
 * as it came (the Authorization header included: the upstream needs it) and every answer comes back as it comes,
 * byte for byte and as it streams; chat completions are observed on the way (observe.ts) into `RecordedExchange`s.
 * Only the request body's model, shape and (with keepContent) the caller's last words are kept, never a header.
 *
 * Hand-written on node:http and fetch: a recording proxy must see each streamed piece when it passes, which
 * general-purpose proxies (http-proxy, mockttp's passthrough) do not expose with their timing.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { answering, candidateModels, readChatRequest } from '../wire/request.js';
import { applyBlock, applyJsonBody, sseBlocks } from './observe.js';
import type { RecordedExchange } from './recorded.js';

export interface RecorderOptions {
  /** The upstream's API base, e.g. https://openrouter.ai/api/v1. */
  upstream: string;
  port?: number;
  host?: string;
  /** Keep the caller's last words of each request (for `user` turns). Default false. */
  keepContent?: boolean;
  /** Largest request body, bytes. */
  bodyLimitBytes?: number;
}

export interface RunningRecorder {
  url: string;
  /** `http://host:port/api/v1`: point the client here. */
  baseURL: string;
  /** Chat completions seen so far, in arrival order (complete ones, and open ones as far as they got). */
  recorded(): RecordedExchange[];
  /** Stops: ends open exchanges (recorded as they stand) and the server. */
  close(): Promise<void>;
}

/** Response headers a client acts on; the only ones a recording keeps. */
const KEPT_HEADERS = /^(retry-after|x-ratelimit-.+)$/;
/**
 * Request headers not passed on: hop-by-hop, recomputed by fetch, or ones undici refuses (curl sends
 * `Expect: 100-continue` with a body over 1 KB; fetch would throw and the exchange be recorded as a reset).
 */
const DROPPED_REQUEST_HEADERS = new Set(['host', 'connection', 'content-length', 'accept-encoding', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'te', 'proxy-connection', 'trailer']);
/** Response headers not passed back: framing is the proxy's own. */
const DROPPED_RESPONSE_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

export async function startRecorder(options: RecorderOptions): Promise<RunningRecorder> {
  const upstream = options.upstream.replace(/\/+$/, '');
  const limit = options.bodyLimitBytes ?? 4 * 1024 * 1024;
  const started = performance.now();
  const recorded: RecordedExchange[] = [];
  const open = new Set<AbortController>();

  const server: Server = createServer((req, res) => {
    void pass(req, res).catch(() => res.destroy());
  });

  async function pass(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = performance.now();
    const path = (req.url ?? '/').replace(/^\/api\/v1/, '');
    if (!(req.url ?? '').startsWith('/api/v1')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"Not Found","code":404}}');
      return;
    }
    const body = await readBody(req, limit);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'application/json' }).end(`{"error":{"message":"Request body too large: the limit is ${limit} bytes","code":413}}`);
      return;
    }
    const ex = req.method === 'POST' && path.startsWith('/chat/completions') ? exchangeFor(body, arrival - started, options.keepContent ?? false) : undefined;
    if (ex) recorded.push(ex);
    const since = () => performance.now() - arrival;

    const controller = new AbortController();
    open.add(controller);
    res.on('close', () => controller.abort());
    try {
      let response: Response;
      try {
        const headers = Object.fromEntries(
          Object.entries(req.headers).flatMap(([k, v]) => (DROPPED_REQUEST_HEADERS.has(k) || v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]])),
        );
        response = await fetch(`${upstream}${path}`, {
          method: req.method ?? 'GET',
          headers: { ...headers, 'accept-encoding': 'identity' },
          ...(body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' && { body }),
          signal: controller.signal,
          redirect: 'manual',
        });
      } catch {
        if (ex) Object.assign(ex, { ended: controller.signal.aborted ? 'abandoned' : 'reset', totalMs: since() });
        // The upstream reset (or never answered and the client left): so does the proxy.
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        if (!DROPPED_RESPONSE_HEADERS.has(key)) headers[key] = value;
      });
      res.writeHead(response.status, headers);
      res.flushHeaders();
      if (ex) {
        ex.status = response.status;
        response.headers.forEach((value, key) => {
          if (KEPT_HEADERS.test(key)) ex.headers[key] = value;
        });
      }
      const streamed = (response.headers.get('content-type') ?? '').includes('text/event-stream');
      let text = '';
      let buffer = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
          res.write(chunk);
          if (!ex) continue;
          const piece = decoder.decode(chunk, { stream: true });
          if (streamed && response.status === 200) {
            const { blocks, rest } = sseBlocks(buffer + piece);
            buffer = rest;
            for (const block of blocks) applyBlock(ex, block, since());
          } else text += piece;
        }
      } catch {
        if (ex && ex.ended !== 'error-event' && ex.ended !== 'done') Object.assign(ex, { ended: 'cut', totalMs: since(), clientLeft: controller.signal.aborted });
        req.socket.destroy();
        return;
      }
      if (ex) {
        if (!streamed || response.status !== 200) applyJsonBody(ex, text, since());
        else if (ex.ended !== 'done' && ex.ended !== 'error-event') ex.ended = 'cut';
        ex.totalMs = since();
      }
      res.end();
    } finally {
      open.delete(controller);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    baseURL: `${url}/api/v1`,
    recorded: () => recorded.map((r) => ({ ...r, pieces: [...r.pieces], headers: { ...r.headers } })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of open) c.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function exchangeFor(body: string, atMs: number, keepContent: boolean): RecordedExchange | undefined {
  const read = readChatRequest(body);
  if (!read.ok) return undefined;
  const request = read.request;
  const asking = answering(request);
  const last = request.messages.at(-1);
  const said = asking === 'user' && typeof last?.content === 'string' ? last.content : undefined;
  return {
    atMs,
    model: candidateModels(request)[0] ?? '',
    answering: asking,
    stream: request.stream === true,
    // A new turn is told by its words; without keepContent only their digest is kept, never the words.
    ...(said !== undefined && { userKey: createHash('sha256').update(said).digest('hex').slice(0, 16), ...(keepContent && { userText: said }) }),
    headers: {},
    pieces: [],
    ended: 'abandoned',
    totalMs: 0,
  };
}

/** The whole body as text, or undefined past `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
