/**
 * The last stops: unknown API paths get OpenRouter's 404, and any error becomes OpenRouter's error JSON with the
 * right status (413 for a body over the limit), never a stack trace. Unexpected errors are logged by fields,
 * without headers (the key must not reach a log).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { clip } from '../../../contract/printable.js';
import { FAKE_WORDED, OBSERVED, reasonPhrase } from '../wire/errors.js';
import { sendError } from './respond.js';

export const notFound: RequestHandler = (_req, res) => sendError(res, { status: 404, message: OBSERVED.notFound });

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    // `limit` is the one the body parser enforced on this route (chat, scenario or reset), so the message can
    // never name another route's limit.
    const e = err as { status?: unknown; type?: unknown; message?: unknown; limit?: unknown };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status === 500) log.error({ method: req.method, path: clip(req.path), err: clip(String(e.message ?? err)) }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message =
      e.type === 'entity.too.large' && typeof e.limit === 'number' ? FAKE_WORDED.tooLarge(e.limit) : status === 500 ? FAKE_WORDED.internal : reasonPhrase(status);
    sendError(res, { status, message });
  };
}
