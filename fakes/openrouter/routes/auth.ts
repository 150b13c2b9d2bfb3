/**
 * The key check OpenRouter makes first: no `Authorization: Bearer <key>` (or an unreadable one) gets 401
 * "No auth credentials found". Any well-formed key is accepted; a rejected key is a scenario fault (`invalid-key`).
 * The key itself is never stored, logged or journaled: what the fake keeps is `keyId`, a short hash of it.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { OBSERVED } from '../wire/errors.js';
import { sendError } from './respond.js';

const BEARER = /^Bearer +\S+$/i;

/** True when the request carries a well-formed bearer key. */
export function hasKey(header: string | undefined): boolean {
  return typeof header === 'string' && BEARER.test(header.trim());
}

/** Hex characters of the key's SHA-256 kept: 48 bits, enough to tell a fleet's keys apart, far from the key. */
const KEY_ID_CHARS = 12;

/**
 * The last key's id. A fleet sends every request with one key, and hashing it is part of reading each request,
 * before its arrival is stamped: in a burst, request k's stamp waits for the k-1 hashes before it. One entry,
 * never a table, so a flood of made-up keys cannot grow it; like the request's headers, it stays in memory only.
 */
let last: { header: string | undefined; id: string | null } = { header: undefined, id: null };

/**
 * The short hash that stands for a key in the journal and the quota (`key_3f9a0c1b2d4e`), or null without a
 * well-formed key. Unsalted so the same key gets the same id on every run (a scenario's journal is deterministic);
 * an API key has far too much entropy for the hash to be reversed.
 */
export function keyIdOf(header: string | undefined): string | null {
  if (header === last.header) return last.id;
  if (!hasKey(header)) return null;
  const token = (header as string).trim().replace(/^Bearer +/i, '');
  const id = `key_${createHash('sha256').update(token).digest('hex').slice(0, KEY_ID_CHARS)}`;
  last = { header: header as string, id };
  return id;
}

export const requireKey: RequestHandler = (req, res, next) => {
  if (hasKey(req.headers.authorization)) return next();
  sendError(res, { status: 401, message: OBSERVED.noAuth });
};
