/**
 * `stall`: answers 200 with SSE headers at once, then only `: OPENROUTER PROCESSING` comments, every
 * `stall.every` (default `fake.keepAliveEvery`), forever: the provider accepted the request and never produced.
 * Non-stream requests get the 200 status line and JSON headers, then a body that never comes.
 *
 * Client observes: a successful response whose stream yields no chunk (comments are not events); only its own
 * deadline ends it. The openai client's iterator just waits.
 * Failure class: stall.
 */
import { formatDuration } from '../../../contract/duration.js';
import type { FaultModule } from './fault.js';

export const stall: FaultModule<'stall'> = {
  describe: (f) =>
    `answer 200, then only keep-alive comments${f.everyMs === undefined ? '' : ` every ${formatDuration(f.everyMs)}`}, never a token`,
  async handle(f, ex) {
    if (!ex.stream) {
      ex.openJson();
      await ex.untilAborted();
      return { outcome: 'stall' };
    }
    ex.openStream();
    const everyMs = Math.max(1, f.everyMs ?? ex.keepAliveEveryMs);
    try {
      for (let at = everyMs; ; at += everyMs) {
        await ex.waitUntil(at);
        ex.comment();
      }
    } catch (err) {
      if (ex.signal.aborted) return { outcome: 'stall' };
      throw err;
    }
  },
};
