/**
 * `hang`: never answers. The request is read, then nothing: no status line, no byte, the socket stays open
 * until the client gives up (or the fake closes).
 *
 * Client observes: no response at all; only its own timeout or abort ends the request (the openai client throws
 * `APIConnectionTimeoutError` or `APIUserAbortError`).
 * Failure class: timeout.
 */
import type { FaultModule } from './fault.js';

export const hang: FaultModule<'hang'> = {
  describe: () => 'never answer, holding the connection open until the client gives up',
  async handle(_f, ex) {
    await ex.untilAborted();
    return { outcome: 'hang' };
  },
};
