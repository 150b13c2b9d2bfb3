/**
 * `malformed: { afterTokens }`: streams `afterTokens` tokens, then a `data:` line that is not JSON (the next chunk,
 * cut in half, as a broken proxy or provider would leave it), then ends the stream without `[DONE]`.
 * Non-stream: after the time those tokens take, HTTP 200 with a JSON body cut in half.
 *
 * Client observes: N chunks, then a parse failure; the openai client throws `SyntaxError` ("Could not parse
 * message into JSON" is logged). Non-stream: the same `SyntaxError` from parsing the body.
 * Failure class: malformed.
 */
import { completion, contentChunk } from '../wire/completion.js';
import type { FaultModule } from './fault.js';
import { nonStreamReadyMs, openAndAwaitFirstToken, recordGeneration, replyPlan, streamTokens, usageOf } from './pacing.js';

function halfOf(json: unknown): string {
  const text = JSON.stringify(json);
  return text.slice(0, Math.floor(text.length / 2));
}

export const malformed: FaultModule<'malformed'> = {
  describe: (f) => `stream ${f.afterTokens} token(s), then a data line that is not JSON`,
  async handle(f, ex) {
    const plan = replyPlan(ex, {}, f.afterTokens + 1);
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan, f.afterTokens);
      ex.dataLine(halfOf(contentChunk(ex.generation, plan.tokens[f.afterTokens] ?? '', f.afterTokens === 0)));
      ex.end();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, f.afterTokens));
      const text = plan.tokens.slice(0, f.afterTokens).join('');
      ex.openJson();
      ex.end(halfOf(completion(ex.generation, text, usageOf(ex, f.afterTokens))));
    }
    recordGeneration(ex, plan, f.afterTokens, null);
    return { outcome: 'malformed' };
  },
};
