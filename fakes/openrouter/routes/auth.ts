/**
 * The key check OpenRouter makes first: no `Authorization: Bearer <key>` (or an unreadable one) gets 401
 * "No auth credentials found". Any well-formed key is accepted; a rejected key is a scenario fault (`invalid-key`).
 * The key itself is never stored, logged or journaled.
 */
import type { RequestHandler } from 'express';
import { OBSERVED } from '../wire/errors.js';
import { sendError } from './respond.js';

const BEARER = /^Bearer +\S+$/i;

export const requireKey: RequestHandler = (req, res, next) => {
  const header = req.headers.authorization;
  if (typeof header === 'string' && BEARER.test(header.trim())) return next();
  sendError(res, { status: 401, message: OBSERVED.noAuth });
};
