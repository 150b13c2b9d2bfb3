/**
 * `disconnect: { afterTokens }`: streams `afterTokens` content tokens at the reply's pace, then closes the socket
 * without a finish chunk, usage or `data: [DONE]` (the chunked body never terminates). With `toolCalls` the
 * reply is those calls (when the request offers tools), so the cut can fall inside one: `afterTokens` counts the
 * text tokens, then each call's start and its argument pieces.
 * Non-stream: waits as long as those tokens would take, then closes the socket before any byte (OpenRouter
 * sends nothing of a non-stream answer until it is complete, so a cut there is a cut before the status line).
 *
 * Client observes: stream: N chunks of text, then a read error ("terminated" / "aborted"), never `[DONE]`;
 * the openai client's iterator throws after the Nth chunk. Non-stream: "socket hang up" / `APIConnectionError`.
 * Failure class: connection.
 */
import type { FaultModule } from './fault.js';
import { callingText, streamedOverrides, nonStreamReadyMs, openAndAwaitFirstToken, recordGeneration, replyPlan, streamTokens } from './pacing.js';

export const disconnect: FaultModule<'disconnect'> = {
  describe: (f) => `stream ${f.afterTokens} token(s)${callingText(f.toolCalls)}, then close the connection without [DONE]`,
  async handle(f, ex) {
    const plan = replyPlan(ex, streamedOverrides(f), f.afterTokens);
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan, f.afterTokens);
      // Let the tokens reach the socket first: the client must see them before the cut.
      await ex.flush();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, f.afterTokens));
    }
    recordGeneration(ex, plan, f.afterTokens, null, true);
    ex.cut();
    return { outcome: 'disconnect' };
  },
};
