/**
 * Structured JSON logs (pino): one line per attempt and per policy step, fields first, short lowercase
 * message. Secrets never appear: the key is never put in a log field, and redaction is the second lock.
 */
import pino, { type Logger } from 'pino';
import type { AgentEvent } from '../../contract/events.js';
import type { AgentEvents } from '../chain/events.js';

export type { Logger };

const REDACT = [
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'OPENROUTER_API_KEY',
  '*.OPENROUTER_API_KEY',
];

export function createLogger(level: string, destination: pino.DestinationStream = pino.destination(1)): Logger {
  return pino({ level, base: { app: 'holdline' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** Writes the agent's events as log lines. Returns an unsubscribe function. */
export function logEvents(events: AgentEvents, log: Logger): () => void {
  return events.subscribe((event) => writeEvent(log, event));
}

function writeEvent(log: Logger, event: AgentEvent): void {
  switch (event.type) {
    case 'attempt': {
      const { type: _t, epochMs: _e, ...fields } = event;
      if (event.outcome === 'ok') log.info(fields, 'attempt answered');
      else if (event.outcome === 'account') {
        // Loud: every OpenRouter request will fail until someone fixes the key or the credits.
        log.error({ ...fields, hint: 'check OPENROUTER_API_KEY and the account credits' }, 'openrouter rejected the account');
      } else if (event.outcome === 'cancelled') log.info(fields, 'attempt cancelled');
      else log.warn(fields, 'attempt failed');
      return;
    }
    case 'skip': {
      const { type: _t, epochMs: _e, ...fields } = event;
      log.info(fields, 'backend skipped, cooling down');
      return;
    }
    case 'policy': {
      const { type: _t, epochMs: _e, step, ...fields } = event;
      const message = { hold: 'holding the caller', wait: 'waiting before the next pass', apology: 'apologising', cancel: 'turn cancelled', hedge: 'hedging a late first token' }[step];
      (step === 'apology' ? log.warn : log.info).call(log, { step, ...fields }, message);
      return;
    }
    case 'turn':
      log.info({ turnId: event.turnId, at: event.at, chars: event.text.length }, 'user turn');
      return;
    case 'turn_end':
      log.info({ turnId: event.turnId, at: event.at, outcome: event.outcome, source: event.source }, 'turn ended');
      return;
    case 'utterance':
      log.info({ turnId: event.turnId, source: event.source, start: event.start, end: event.end, interrupted: event.interrupted }, 'spoke');
      return;
    case 'tool':
      // The arguments and result may hold a caller's details: their sizes only.
      log.info({ name: event.name, callId: event.callId, at: event.at, argumentChars: event.arguments.length, resultChars: event.result.length }, 'tool ran');
      return;
    case 'state':
      log.debug({ from: event.from, to: event.to, at: event.at }, 'agent state');
      return;
    case 'close':
      log.warn({ reason: event.reason, at: event.at }, 'session closed');
      return;
  }
}
