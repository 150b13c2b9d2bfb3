/**
 * `midStream: { afterTokens, error }`: streams `afterTokens` tokens, then OpenRouter's mid-stream error: HTTP is
 * already 200, so the error travels as a data event,
 *   data: {"id":...,"object":"chat.completion.chunk",...,"error":{"code":502,"message":"Provider returned error",
 *          "metadata":{...}},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error",
 *          "native_finish_reason":"error"}]}
 * and the stream ends there, with no usage chunk and no `[DONE]` (OpenRouter's docs: "the stream is terminated
 * after this event"). `code` and `message` are the preset's. With `toolCalls` the reply is those calls (when the
 * request offers tools), so the error can fall inside one: `afterTokens` counts text tokens, call starts and
 * argument pieces.
 * Non-stream: after the time those tokens take, HTTP 200 whose body is the error JSON (OpenRouter's docs: errors
 * during generation are "emitted in the response body" with status 200).
 *
 * Client observes: N chunks, then an event with `error` and `finish_reason: "error"`; the openai client throws
 * `APIError` (no status) carrying the error. Non-stream: a 200 body without `choices`.
 * Failure class: the preset's (a mid-stream 502 is unavailable, a mid-stream 429 rate-limit), after output began.
 */
import { errorBody } from '../wire/errors.js';
import { errorChunk } from '../wire/completion.js';
import { PRESETS, presetError } from '../wire/presets.js';
import type { FaultModule } from './fault.js';
import { callingText, nonStreamReadyMs, openAndAwaitFirstToken, recordGeneration, replyPlan, streamTokens } from './pacing.js';

export const midStream: FaultModule<'midStream'> = {
  describe: (f) =>
    `stream ${f.afterTokens} token(s)${callingText(f.toolCalls)}, then a mid-stream ${f.error} error (code ${PRESETS[f.error].status}) and end the stream`,
  async handle(f, ex) {
    const plan = replyPlan(ex, { ...(f.toolCalls && { toolCalls: f.toolCalls }) }, f.afterTokens);
    const err = presetError(f.error, ex.presetContext());
    const error = { code: err.status, message: err.message, ...(err.metadata !== undefined && { metadata: err.metadata }) };
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan, f.afterTokens);
      ex.event(errorChunk(ex.generation, error));
      ex.end();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, f.afterTokens));
      ex.sendJson(200, errorBody(err, ex.userId), { 'X-Generation-Id': ex.generation.id });
    }
    recordGeneration(ex, plan, f.afterTokens, 'error');
    return { outcome: 'midStream' };
  },
};
