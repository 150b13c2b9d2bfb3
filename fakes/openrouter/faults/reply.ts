/**
 * `reply` (a shaped reply: `then: { text, ttft, tokensPerSecond, toolCalls }`, each overriding `fake.reply`; also
 * the answer to every request no rule catches): OpenRouter's success.
 * Stream: 200 + SSE headers at once, `: OPENROUTER PROCESSING` every `keepAliveEvery` until the first token at
 * `ttft`, one chunk per token (a word with its leading space) at `tokensPerSecond`, the first with
 * `role: "assistant"`, then per tool call (when the request offers tools) a chunk with its index, id, type and
 * name and its arguments in pieces at the same pace, then the finish chunk (`stop`, `tool_calls`, or `length` when
 * the request's `max_tokens` / `max_completion_tokens` cut the reply there, mid-word or mid-call), the usage
 * chunk (one content-free choice repeating that finish, as OpenRouter sends it) and `data: [DONE]`.
 * Non-stream: the `chat.completion` JSON (with `message.tool_calls`) when the stream would have sent its last token.
 *
 * Client observes: a normal completion (`gen-` id, `provider`, `usage.cost`, `X-Generation-Id`); with tool calls,
 * `finish_reason: "tool_calls"` and the calls (LiveKit's plugin hands each on as a FunctionCall when it is complete).
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
    if (f.toolCalls !== undefined) parts.push(`calling ${f.toolCalls.map((c) => c.name).join(', ')}`);
    return parts.join(', ');
  },
  async handle(f, ex) {
    const plan = replyPlan(ex, f);
    const count = plan.slots.length;
    const finish = plan.finish;
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan);
      ex.event(finishChunk(ex.generation, finish));
      ex.event(usageChunk(ex.generation, usageOf(ex, count, plan.reasoning.length), finish));
      ex.done();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, count));
      const body = completion(ex.generation, plan.tokens.join(''), usageOf(ex, count, plan.reasoning.length), {
        toolCalls: plan.toolCalls,
        finish,
        reasoning: plan.reasoning.length > 0 ? plan.reasoning.join('') : null,
      });
      ex.sendJson(200, body, { 'X-Generation-Id': ex.generation.id });
    }
    recordGeneration(ex, plan, count, finish);
    return { outcome: '200' };
  },
};
