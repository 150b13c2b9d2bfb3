/**
 * `midStream: { afterTokens, error }`: streams `afterTokens` tokens, then OpenRouter's mid-stream error: HTTP is
 * already 200, so the error travels as a data event,
 *   data: {"id":...,"object":"chat.completion.chunk",...,"error":{"code":502,"message":"Provider returned error",
 *          "metadata":{...}},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error",
 *          "native_finish_reason":"error"}]}
 * and the stream ends there, with no usage chunk and no `[DONE]` (OpenRouter's docs: "the stream is terminated
 * after this event"). `code` and `message` are the preset's unless the fault gives its own: a number, or one of
 * OpenRouter's string codes (`server_error` with "Provider disconnected", as its docs show it), and `errorType` /
 * `limitSource` add `metadata.error_type` / `metadata.limit_source`; without `code`, `metadata` or `errorType` the
 * preset's own `error_type` is there (`ERROR_TYPES`, from OpenRouter's errors docs), as OpenRouter tags these
 * errors. `ttft` sets this stream's first token. With `toolCalls` the reply is those calls (when the request offers
 * tools), so the error can fall inside one: `afterTokens` counts text tokens, call starts and argument pieces.
 * Non-stream: after the time those tokens take, HTTP 200 whose body is the error JSON (OpenRouter's docs: errors
 * during generation are "emitted in the response body" with status 200).
 *
 * Client observes: N chunks, then an event with `error` and `finish_reason: "error"`; the openai client throws
 * `APIError` (no status) carrying the error. Non-stream: a 200 body without `choices`.
 * Failure class: the preset's (a mid-stream 502 is unavailable, a mid-stream 429 rate-limit), after output began.
 */
import { formatDuration } from '../../../contract/duration.js';
import { errorChunk } from '../wire/completion.js';
import { ERROR_TYPES, PRESETS, presetError } from '../wire/presets.js';
import type { FaultModule } from './fault.js';
import { callingText, streamedOverrides, nonStreamReadyMs, openAndAwaitFirstToken, recordGeneration, replyPlan, streamTokens } from './pacing.js';

/** The message OpenRouter's docs show with the string code `server_error`. */
const SERVER_ERROR_MESSAGE = 'Provider disconnected';

export const midStream: FaultModule<'midStream'> = {
  describe: (f) => {
    const extras = [
      ...(f.errorType !== undefined ? [`error_type ${f.errorType}`] : []),
      ...(f.limitSource !== undefined ? [`limit_source ${f.limitSource}`] : []),
    ];
    const ttft = f.ttftMs !== undefined ? `after a first token at ${formatDuration(f.ttftMs)}, ` : '';
    return `${ttft}stream ${f.afterTokens} token(s)${callingText(f.toolCalls)}, then a mid-stream ${f.error} error (code ${JSON.stringify(f.code ?? PRESETS[f.error].status)}${extras.length > 0 ? `, ${extras.join(', ')}` : ''}) and end the stream`;
  },
  async handle(f, ex) {
    const plan = replyPlan(ex, streamedOverrides(f), f.afterTokens);
    const err = presetError(f.error, ex.presetContext());
    // The preset's typed error_type, as OpenRouter tags a mid-stream error, unless the fault scripts the error itself
    // (its code, its metadata or its error_type: a recording's, or a code that disagrees with the preset's status).
    const typed = f.code === undefined && f.metadata === undefined ? ERROR_TYPES[f.error] : undefined;
    const errorType = f.errorType ?? typed;
    const metadata = {
      ...(f.metadata ?? err.metadata),
      ...(errorType !== undefined && { error_type: errorType }),
      ...(f.limitSource !== undefined && { limit_source: f.limitSource }),
    };
    const error = {
      code: f.code ?? err.status,
      message: f.message ?? (f.code === 'server_error' ? SERVER_ERROR_MESSAGE : err.message),
      ...(Object.keys(metadata).length > 0 && { metadata }),
    };
    if (ex.stream) {
      await openAndAwaitFirstToken(ex, plan.pace);
      await streamTokens(ex, plan, f.afterTokens);
      ex.event(errorChunk(ex.generation, error));
      ex.end();
    } else {
      await ex.waitUntil(nonStreamReadyMs(plan.pace, f.afterTokens));
      // Key order as in OpenRouter's bodies (message before code), as the pre-stream errors have it.
      const { code, message, ...rest } = error;
      ex.sendJson(200, { error: { message, code, ...rest }, user_id: ex.userId }, { 'X-Generation-Id': ex.generation.id });
    }
    recordGeneration(ex, plan, f.afterTokens, 'error');
    return { outcome: 'midStream' };
  },
};
