/**
 * `reply` (a shaped reply: `then: { text, ttft, tokensPerSecond }`, each overriding `fake.reply`; also the answer
 * to every request no rule catches): OpenRouter's success.
 * Stream: 200 + SSE headers at once, `: OPENROUTER PROCESSING` every `keepAliveEvery` until the first token at
 * `ttft`, one chunk per token (a word with its leading space) at `tokensPerSecond`, the first with
 * `role: "assistant"`, then the finish chunk, the usage chunk (`choices: []`) and `data: [DONE]`.
 * Non-stream: the `chat.completion` JSON when the stream would have sent its last token.
 *
 * Client observes: a normal completion (`gen-` id, `provider`, `usage.cost`, `X-Generation-Id`).
 * Failure class: none (ok).
 */
import { formatDuration } from '../../../contract/duration.js';
import { completion, finishChunk, usageChunk } from '../wire/completion.js';
import type { FaultModule } from './fault.js';
import { nonStreamReadyMs, openAndAwaitFirstToken, recordGeneration, replyPlan, streamTokens, usageOf } from './pacing.js';

function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

export const reply: FaultModule<'reply'> = {
  describe: (f) => {
    const parts = [f.text === undefined ? 'reply with fake.reply' : `reply ${quoted(f.text)}`];
    if (f.ttftMs !== undefined) parts.push(`first token after ${formatDuration(f.ttftMs)}`);
    if (f.tokensPerSecond !== undefined) parts.push(`${f.tokensPerSecond} tokens/s`);
    return parts.join(', ');
  },
  async handle(f, ex) {
    const plan = replyPlan(ex, f);
    const count = plan.tokens.length;
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan);
      ex.event(finishChunk(ex.generation));
      ex.event(usageChunk(ex.generation, usageOf(ex, count)));
      ex.done();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, count));
      ex.sendJson(200, completion(ex.generation, plan.tokens.join(''), usageOf(ex, count)), { 'X-Generation-Id': ex.generation.id });
    }
    recordGeneration(ex, plan, count, 'stop');
    return { outcome: '200' };
  },
};
