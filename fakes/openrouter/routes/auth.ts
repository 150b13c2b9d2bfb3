/**
 * The key check OpenRouter makes first: no `Authorization: Bearer <key>` (or an unreadable one) gets 401
 * "No auth credentials found". Any well-formed key is accepted; a rejected key is a scenario fault (`invalid-key`).
 * The key itself is never stored, logged or journaled.
 */
import type { RequestHandler } from 'express';
import { OBSERVED } from '../wire/errors.js';
import { sendError } from './respond.js';

const BEARER = /^Bearer +\S+$/i;

/** True when the request carries a well-formed bearer key. */
export function hasKey(header: string | undefined): boolean {
  return typeof header === 'string' && BEARER.test(header.trim());
}

export const requireKey: RequestHandler = (req, res, next) => {
  if (hasKey(req.headers.authorization)) return next();
  sendError(res, { status: 401, message: OBSERVED.noAuth });
};
