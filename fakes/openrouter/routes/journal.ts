/**
 * Journals every API request: opens its entry on arrival, stamps the time of the first byte (status line) and of
 * the close, and announces the finished entry (`closed`). Outcome: what the route decided, or else the status sent,
 * or `aborted` when nothing was sent.
 */
import type { ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { JournalEntry } from '../../../contract/journal.js';
import { roundMs } from '../journal.js';
import type { FakeState } from '../state.js';
import { keyIdOf } from './auth.js';

interface Locals {
  entry: JournalEntry;
  /** Set by a route that decided the outcome itself (a fault kind, `aborted`). */
  outcomeDecided?: boolean;
}

export function entryOf(res: Response): JournalEntry {
  return (res.locals as Locals).entry;
}

/** Records the outcome explicitly (a fault kind, or a status the close must not overwrite). */
export function decideOutcome(res: Response, outcome: JournalEntry['outcome']): void {
  (res.locals as Locals).entry.outcome = outcome;
  (res.locals as Locals).outcomeDecided = true;
}

export function journalRequests(state: FakeState): RequestHandler {
  return (req, res, next) => {
    journalOne(state, req.method, req.originalUrl.split('?')[0] ?? req.path, res, keyIdOf(req.headers.authorization));
    next();
  };
}

/** Opens the journal entry of one request and follows its answer to the close (express or not: see fast-chat.ts). */
export function journalOne(state: FakeState, method: string, path: string, res: ServerResponse & { locals?: object }, key: string | null): JournalEntry {
  const clock = state.clock;
  const entry = state.journal.open(Math.floor(state.arrivals.now()), method, path, key);
  const locals = (res.locals ??= {}) as Locals;
  locals.entry = entry;

  // Node sends every status line through writeHead (res.end and flushHeaders call it implicitly), so wrapping it
  // is the one place that sees the first byte of every answer.
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    if (entry.ttfbMs === null) entry.ttfbMs = roundMs(clock.now() - entry.at);
    // The status as the outcome from the first byte on (the close settles it): a client that reads the journal
    // as soon as it has its answer sees it, even when the answer went out from a backlog slice (backlog.ts).
    if (!locals.outcomeDecided && typeof args[0] === 'number') entry.outcome = `${args[0]}`;
    return writeHead(...args);
  }) as typeof res.writeHead;

  res.on('close', () => {
    entry.durationMs = roundMs(clock.now() - entry.at);
    // The route learns of the close through the same event; let it record its outcome before announcing.
    setImmediate(() => {
      if (!locals.outcomeDecided) entry.outcome = res.headersSent ? `${res.statusCode}` : 'aborted';
      state.events.emit('closed', entry);
    });
  });
  return entry;
}
