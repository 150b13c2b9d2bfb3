/**
 * `empty`: a well-formed answer with no content. Stream: after ttft (with keep-alive comments), the role chunk
 * (`content: ""`), the finish chunk, usage with `completion_tokens: 0`, and `[DONE]`. Non-stream: a completion whose
 * `content` is "".
 *
 * Client observes: success with nothing to say; the openai client returns normally with empty text.
 * Failure class: unavailable (OpenRouter's docs: no content usually means a cold or scaling provider; retry or try
 * another model).
 */
import { completion, contentChunk, finishChunk, usageChunk } from '../wire/completion.js';
import type { FaultModule } from './fault.js';
import { openAndAwaitFirstToken, recordGeneration, replyPlan, usageOf } from './pacing.js';

export const empty: FaultModule<'empty'> = {
  describe: () => 'answer 200 with no content (role, finish, usage, [DONE])',
  async handle(_f, ex) {
    const plan = replyPlan(ex);
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      ex.event(contentChunk(ex.generation, '', true));
      ex.event(finishChunk(ex.generation));
      ex.event(usageChunk(ex.generation, usageOf(ex, 0)));
      ex.done();
    } else {
      await ex.waitUntil(plan.pace.ttftMs);
      ex.sendJson(200, completion(ex.generation, '', usageOf(ex, 0)), { 'X-Generation-Id': ex.generation.id });
    }
    recordGeneration(ex, plan, 0, 'stop');
    return { outcome: 'empty' };
  },
};
