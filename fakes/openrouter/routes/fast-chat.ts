/**
 * `POST /api/v1/chat/completions` without express in front of it. Profiling `bench:fake` at concurrency 64
 * (`node --cpu-prof` on the fake's process) put express's router (prefix trimming, param processing, layer
 * dispatch) and body-parser/raw-body at about a third of the fake's request time, more than the chat route's
 * own work, and mockttp pays none of it. This does the same steps by hand: the journal entry, OpenRouter's key
 * check, the body read as text with the same limit and the same 413, then the very same `chatRoute`.
 *
 * Only plain requests take this path: a compressed body, a charset other than UTF-8 or a query string goes
 * through express as before (body-parser handles those), so nothing a client can send behaves differently.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { Backlog } from '../backlog.js';
import type { FakeState } from '../state.js';
import { OBSERVED } from '../wire/errors.js';
import { keyIdOf } from './auth.js';
import { chatRoute } from './chat.js';
import { errorHandler } from './errors.js';
import { journalOne } from './journal.js';
import { sendError } from './respond.js';

export const CHAT_PATH = '/api/v1/chat/completions';

export interface FastChatOptions {
  bodyLimitBytes: number;
  log: Logger;
}

/** Returns a handler that answers plain chat requests itself and returns false for anything else. */
export function fastChat(state: FakeState, options: FastChatOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const route = chatRoute(state);
  const onError = errorHandler(options.log);
  // Read and stamp every request as it comes; answer in arrival order between event-loop turns (backlog.ts).
  const backlog = new Backlog();
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== CHAT_PATH || !plain(req)) return false;
    const key = keyIdOf(req.headers.authorization);
    journalOne(state, 'POST', CHAT_PATH, res, key);
    if (key === null) {
      req.resume();
      sendError(res, { status: 401, message: OBSERVED.noAuth });
      return true;
    }
    // Callbacks, not a promise: the job joins the backlog as the body ends, in the same I/O callback. No named
    // closures per request: under tsx (esbuild's keepNames) each one costs a defineProperty call.
    readText(req, options.bodyLimitBytes, (err, body) => {
      if (err) return failed(onError, req, res, err);
      if (body === undefined) return; // the client went away mid-body
      Object.assign(req, { body, path: CHAT_PATH });
      backlog.add(() => void Promise.resolve(route(req as Request, res as Response, () => {})).catch((e: unknown) => failed(onError, req, res, e)));
    });
    return true;
  };
}

/** An error reading or answering the request goes to the express app's error handler, as on the express path. */
function failed(onError: ReturnType<typeof errorHandler>, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  onError(err, Object.assign(req, { path: CHAT_PATH }) as unknown as Request, res as Response, () => {});
}

/** No content encoding, and UTF-8 (or no charset): what body-parser would read as plain text. */
function plain(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

type BodyCallback = (err: Error | null, body?: string) => void;

/** body-parser's 413 (`status`, `type`, `limit`). */
function tooLarge(limit: number): Error {
  return Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large', limit });
}

/** Calls the reader's callback the first time only (a 413, then the end or an abort, must not answer twice). */
function settle(reader: { done: BodyCallback | undefined }, err: Error | null, body?: string): void {
  const done = reader.done;
  reader.done = undefined;
  done?.(err, body);
}

/**
 * Calls back with the body as UTF-8 text, undefined if the client went away mid-body, or a 413 error past the limit.
 * Once, whatever happens.
 */
function readText(req: IncomingMessage, limit: number, done: BodyCallback): void {
  const reader = { done: done as BodyCallback | undefined, chunks: [] as Buffer[], size: 0 };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return settle(reader, tooLarge(limit));
  }
  req.on('data', (chunk: Buffer) => {
    reader.size += chunk.length;
    if (reader.size > limit) {
      req.removeAllListeners('data');
      req.resume();
      return settle(reader, tooLarge(limit));
    }
    reader.chunks.push(chunk);
  });
  // One chunk (a voice agent's request, almost always): its bytes as they are, no copy.
  req.on('end', () => settle(reader, null, (reader.chunks.length === 1 ? (reader.chunks[0] as Buffer) : Buffer.concat(reader.chunks, reader.size)).toString('utf8')));
  req.on('aborted', () => settle(reader, null, undefined));
  req.on('error', () => settle(reader, null, undefined));
}
