/**
 * Every answer of the rehearsal API is JSON, errors included: express's own error page is HTML with a stack trace
 * and the checkout's absolute paths, which a client should never see (and a runner cannot parse). Unknown routes
 * get a JSON 404; unexpected errors are logged by fields and answered with a fixed message.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { STATUS_CODES } from 'node:http';
import type { Logger } from '../observability/log.js';

/** Largest request body, bytes: a turn's text or a reset instant. Named here so the 413 message names it too. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no route ${req.method} ${req.path.slice(0, 100)}; see GET /healthz, /events, /llm/status, /metrics, /lateness, POST /turns, /reset` });
};

export function jsonErrors(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = err as { status?: unknown; type?: unknown; limit?: unknown };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status === 500) log.error({ method: req.method, path: req.path.slice(0, 256), err: String((err as Error)?.message ?? err).slice(0, 256) }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: messageFor(status, e) });
  };
}

function messageFor(status: number, e: { type?: unknown; limit?: unknown }): string {
  if (e.type === 'entity.parse.failed') return 'the body is not valid JSON';
  if (e.type === 'entity.too.large') return `the body is larger than the ${typeof e.limit === 'number' ? e.limit : BODY_LIMIT_BYTES}-byte limit`;
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return 'the body must be UTF-8 JSON';
  return status === 500 ? 'internal error' : (STATUS_CODES[status] ?? `HTTP ${status}`);
}
