/**
 * Who may drive a local control API: the fake's (`/__fake/`: reset, scenario, journal) and the rehearsal agent's
 * (`/turns`, `/reset`, `/events`). They reset, swap scenarios and show every request, with no login of their own, so:
 * - a browser page must not reach it: a cross-site request carries an `Origin` naming another site (refused), and
 *   the only bodies a page can send without asking first are text/plain and form encodings (refused: a mutating
 *   route takes YAML or JSON, declared);
 * - bound to the loopback, a request must be addressed to the loopback (`Host: 127.0.0.1 / localhost / [::1]`), or
 *   a page on a name that resolves to 127.0.0.1 (DNS rebinding) would be same-origin with it;
 * - with an admin token (the fake's `--admin-token`, `HOLDLINE_FAKE_ADMIN_TOKEN`), every route but the health check
 *   wants `Authorization: Bearer <token>`. Bound anywhere but the loopback, the fake says loudly when there is none.
 * Hand-written: a dozen lines each, and no middleware library checks Host against the bind address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler, Response } from 'express';

export interface AdminGuardOptions {
  /** The interface the server is bound to; a loopback one turns the Host check on. */
  host: string;
  /** When set, required as `Authorization: Bearer <token>` on every route but the health check. */
  adminToken?: string;
  /** The health check's path, open without the token (orchestrators probe it). */
  healthPath?: string;
}

/** Media types a scenario may be PUT as (YAML, or JSON, which is YAML). */
export const SCENARIO_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/json'];
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host name of a `Host` header or an origin's authority, without the port: `[::1]:4010` -> `[::1]`. */
function hostName(authority: string): string {
  return authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : (authority.split(':')[0] ?? '');
}

/** Why a request may not use the control API (status and reason), or undefined when it may. */
export function refusal(method: string, path: string, headers: IncomingHttpHeaders, options: AdminGuardOptions): { status: number; reason: string } | undefined {
  const host = headers.host ?? '';
  if (isLoopback(options.host) && !isLoopback(hostName(host))) {
    return { status: 403, reason: `the control API answers only requests addressed to the loopback, not Host ${JSON.stringify(host.slice(0, 100))} (DNS rebinding)` };
  }
  const origin = headers.origin;
  if (origin !== undefined && originAuthority(origin) !== host.toLowerCase()) {
    return { status: 403, reason: 'the control API refuses cross-site requests (Origin is another site)' };
  }
  const health = method === 'GET' && path === (options.healthPath ?? '/health');
  if (options.adminToken !== undefined && !health && !bearerMatches(headers.authorization, options.adminToken)) {
    return { status: 401, reason: 'the control API wants Authorization: Bearer <admin token>' };
  }
  return undefined;
}

function originAuthority(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined; // "null" (a sandboxed page, a file) and anything else unreadable
  }
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The error body each API uses: the fake's `{ok, problems}`, the agent's `{error}`. */
export type ErrorBody = (text: string) => unknown;

export function adminGuard(options: AdminGuardOptions, errorBody: ErrorBody): RequestHandler {
  return (req, res, next) => {
    const refused = refusal(req.method, req.path, req.headers, options);
    if (refused) return sendError(res, refused.status, errorBody(refused.reason));
    next();
  };
}

function sendError(res: Response, status: number, body: unknown): void {
  res.status(status).json(body);
}

/**
 * A mutating route's body must be declared as one of `types` (refused with 415 otherwise, before it is read);
 * an empty body may also come without a type (`curl -X POST .../reset`).
 */
export function requireMediaType(types: readonly string[], { emptyAllowed }: { emptyAllowed: boolean }, errorBody: ErrorBody): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (declared === undefined ? emptyAllowed && !hasBody : types.includes(declared)) return next();
    sendError(res, 415, errorBody(`expected Content-Type ${types.join(' or ')}, got ${declared === undefined ? 'none' : JSON.stringify(declared.slice(0, 100))}`));
  };
}
