/**
 * `failedFinish: { afterTokens, native? }`: streams `afterTokens` tokens, then a finish that says the provider failed,
 * with no error event, then `data: [DONE]` and no usage chunk. `native: error` (the default) is `finish_reason:
 * "error"`, `native_finish_reason: "error"`: OpenRouter's normalised finish for an upstream that died mid-answer
 * (reported in gethouston/houston#1211 and OleksandrChekhovskyi/hax#15); `native: network_error` is `finish_reason:
 * "stop"` with the cause only in `native_finish_reason: "network_error"` and no usage chunk (earendil-works/pi#8511).
 * The threads describe these streams in words, not bytes: the chunk here is OpenRouter's finish chunk with those
 * fields. Beside `midStream` (the documented error event, which the openai client throws on), this is the failure
 * a client only sees by reading the finish.
 * `text`, `ttft`, `tokensPerSecond`: the streamed part, over `fake.reply`'s (a recording replays its own).
 * Non-stream: after the time those tokens take, HTTP 200 with the text so far and the same finish fields.
 *
 * Client observes: N chunks, then a finish chunk and `[DONE]`, no error; LiveKit's plugin passes neither reason on.
 * Failure class: unavailable (holdline reads the finish: src/chain/attempt.ts `failedFinish`), after output began
 * when N > 0 (the apology), before it when N = 0 (the next backend).
 */
import { completion, failedFinishChunk, failedFinishReason } from '../wire/completion.js';
import type { FaultModule } from './fault.js';
import { nonStreamReadyMs, openAndAwaitFirstToken, recordGeneration, replyPlan, streamedOverrides, streamTokens, usageOf } from './pacing.js';

export const failedFinish: FaultModule<'failedFinish'> = {
  describe: (f) =>
    `stream ${f.afterTokens} token(s), then finish ${f.native === 'error' ? '"error"' : `"stop" with native_finish_reason "${f.native}"`} without an error event`,
  async handle(f, ex) {
    const plan = replyPlan(ex, streamedOverrides(f), f.afterTokens);
    const finish = failedFinishReason(f.native);
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan, f.afterTokens);
      ex.event(failedFinishChunk(ex.generation, f.native));
      ex.done();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, f.afterTokens));
      const body = completion(ex.generation, plan.tokens.slice(0, f.afterTokens).join(''), usageOf(ex, f.afterTokens));
      ex.sendJson(200, { ...body, choices: body.choices.map((c) => ({ ...c, finish_reason: finish, native_finish_reason: f.native })) }, { 'X-Generation-Id': ex.generation.id });
    }
    recordGeneration(ex, plan, f.afterTokens, finish);
    return { outcome: 'failedFinish' };
  },
};
