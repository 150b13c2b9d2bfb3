/**
 * `reset`: resets the connection (TCP RST) as soon as the request is read, before any response byte.
 *
 * Client observes: a connection error with no status: `ECONNRESET` (or "socket hang up"); the openai client
 * throws `APIConnectionError`.
 * Failure class: connection.
 */
import type { FaultModule } from './fault.js';

export const reset: FaultModule<'reset'> = {
  describe: () => 'reset the connection before any byte',
  async handle(_f, ex) {
    ex.resetConnection();
    return { outcome: 'reset' };
  },
};
