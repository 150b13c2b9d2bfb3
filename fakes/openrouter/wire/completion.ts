/**
 * OpenRouter's completion shapes: the non-stream `chat.completion`, the stream's `chat.completion.chunk`s (content,
 * finish, the usage chunk that repeats the finish, the mid-stream error chunk) and `usage` with `cost`.
 * Everything here is a pure function of its inputs, so equal inputs serialise to equal bytes.
 */
import { base62 } from '../seeded.js';
import { pricingFor, providerFor } from './catalog.js';

/** Who answered: the `gen-` id, `created` (epoch s), the model that served and its provider. */
export interface Generation {
  id: string;
  created: number;
  model: string;
  provider: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** USD. */
  cost: number;
  is_byok: boolean;
  prompt_tokens_details: { cached_tokens: number };
  /** What the upstream charged a BYOK key; null without one (the fake's keys are never BYOK). */
  cost_details: { upstream_inference_cost: number | null };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * OpenRouter's `usage`, field for field as a real answer quoted in BerriAI/litellm#11626 has it: `{prompt_tokens,
 * completion_tokens, total_tokens, cost, is_byok, prompt_tokens_details: {cached_tokens}, cost_details:
 * {upstream_inference_cost: None}, completion_tokens_details: {reasoning_tokens}}`.
 */
export function usageFor(model: string, promptTokens: number, completionTokens: number, reasoningTokens = 0): Usage {
  const price = pricingFor(model);
  const cost = promptTokens * Number(price.prompt) + completionTokens * Number(price.completion);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    // Rounded so float noise never makes two equal runs differ in their bytes.
    cost: Number(cost.toFixed(10)),
    is_byok: false,
    prompt_tokens_details: { cached_tokens: 0 },
    cost_details: { upstream_inference_cost: null },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}

function head(g: Generation, object: 'chat.completion' | 'chat.completion.chunk') {
  return { id: g.id, provider: g.provider, model: g.model, object, created: g.created };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'error' | null;

/** A tool call as a whole (non-stream `message.tool_calls[i]`). */
export interface WireToolCall {
  id: string;
  name: string;
  arguments: string;
}

function choice(delta: Record<string, unknown>, finish: FinishReason) {
  return { index: 0, delta, finish_reason: finish, native_finish_reason: finish, logprobs: null };
}

/** One content token. The first chunk of a reply also carries `role: "assistant"`. */
export function contentChunk(g: Generation, content: string, first: boolean) {
  return { ...head(g, 'chat.completion.chunk'), choices: [choice(first ? { role: 'assistant', content } : { content }, null)] };
}

/**
 * The start of tool call `index`: its id, type and name, with empty arguments (OpenRouter's and OpenAI's shape:
 * `delta.tool_calls[{index, id, type: "function", function: {name, arguments: ""}}]`). The reply's first chunk
 * also carries `role: "assistant"` and `content: null`.
 */
export function toolCallStartChunk(g: Generation, index: number, id: string, name: string, first: boolean) {
  const call = { index, id, type: 'function', function: { name, arguments: '' } };
  return {
    ...head(g, 'chat.completion.chunk'),
    choices: [choice(first ? { role: 'assistant', content: null, tool_calls: [call] } : { tool_calls: [call] }, null)],
  };
}

/** A piece of tool call `index`'s arguments (`delta.tool_calls[{index, function: {arguments}}]`, no id or name). */
export function toolCallArgumentsChunk(g: Generation, index: number, piece: string) {
  return { ...head(g, 'chat.completion.chunk'), choices: [choice({ tool_calls: [{ index, function: { arguments: piece } }] }, null)] };
}

/**
 * A piece of reasoning, as OpenRouter streams it for a model that reasons: `delta.reasoning` and the same text in
 * `delta.reasoning_details`, with an empty `content` (the first chunk also carries `role: "assistant"`).
 */
export function reasoningChunk(g: Generation, text: string, first: boolean) {
  const details = [{ type: 'reasoning.text', text, format: 'unknown', index: 0 }];
  return {
    ...head(g, 'chat.completion.chunk'),
    choices: [choice({ ...(first && { role: 'assistant' }), content: '', reasoning: text, reasoning_details: details }, null)],
  };
}

/** The chunk that ends the choice: `stop`, `length` (max_tokens reached) or `tool_calls`. */
export function finishChunk(g: Generation, finish: Exclude<FinishReason, 'error' | null> = 'stop') {
  return { ...head(g, 'chat.completion.chunk'), choices: [choice({ role: 'assistant', content: '' }, finish)] };
}

/**
 * The last chunk before `[DONE]`, with the usage. Not OpenAI's empty `choices`: OpenRouter's streaming docs ("The final
 * usage chunk", OpenRouterTeam/docs api_reference/streaming.mdx) say it "intentionally deviates: the usage chunk
 * contains one choice with a content-free `delta` that repeats the `finish_reason` (and `native_finish_reason`) of the
 * stream", so the finish reason comes twice; real traffic quoted in speakeasy-api/gram#921 has that one choice too.
 * A client that takes the second `finish_reason` for another end (or runs a tool call again) must meet it here.
 */
export function usageChunk(g: Generation, usage: Usage, finish: Exclude<FinishReason, 'error' | null> = 'stop') {
  return { ...head(g, 'chat.completion.chunk'), choices: [choice({ role: 'assistant', content: '' }, finish)], usage };
}

/** An error after the stream started: HTTP is already 200, so it travels as a data event that ends the choice. */
export function errorChunk(g: Generation, error: { code: number | string; message: string; metadata?: Record<string, unknown> }) {
  return {
    ...head(g, 'chat.completion.chunk'),
    error,
    choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' }],
  };
}

/**
 * The chunk that ends a choice in failure without an error event (faults/failed-finish.ts): `finish_reason: "error"`
 * with `native_finish_reason: "error"`, or `"stop"` with the cause only in `native_finish_reason: "network_error"`.
 */
export function failedFinishChunk(g: Generation, native: 'error' | 'network_error') {
  return { ...head(g, 'chat.completion.chunk'), choices: [{ ...choice({ role: 'assistant', content: '' }, failedFinishReason(native)), native_finish_reason: native }] };
}

/** The `finish_reason` a failed finish shows: `error` for a native `error`; a `network_error` shows as `stop`. */
export function failedFinishReason(native: 'error' | 'network_error'): 'error' | 'stop' {
  return native === 'error' ? 'error' : 'stop';
}

/** A whole non-stream answer; with tool calls, `content` is null when there is no text, as OpenAI sends it. */
export function completion(
  g: Generation,
  text: string,
  usage: Usage,
  {
    toolCalls = [],
    finish = toolCalls.length > 0 ? 'tool_calls' : 'stop',
    reasoning = null,
  }: { toolCalls?: WireToolCall[]; finish?: Exclude<FinishReason, 'error' | null>; reasoning?: string | null } = {},
) {
  const calls = toolCalls.map((c, index) => ({ index, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return {
    ...head(g, 'chat.completion'),
    choices: [
      {
        logprobs: null,
        finish_reason: finish,
        native_finish_reason: finish,
        index: 0,
        message: {
          role: 'assistant',
          content: calls.length > 0 && text === '' ? null : text,
          refusal: null,
          reasoning,
          ...(calls.length > 0 && { tool_calls: calls }),
        },
      },
    ],
    usage,
  };
}

/** `created` of a generation: a fixed epoch (2026-01-01T00:00:00Z) plus the request's number, never the wall clock. */
const CREATED_BASE_S = 1_767_225_600;

/** The id of tool call `index` in the `nth` answer for `model`: `call_` and 24 seeded characters, like OpenAI's. */
export function toolCallId(seed: number, model: string, nth: number, index: number): string {
  return `call_${base62(24, seed, 'tool-call', model, nth, index)}`;
}

/** Id, `created` and provider of the `nth` answer for `model`: a pure function of (seed, model, nth). */
export function generationFor(seed: number, model: string, nth: number): Generation {
  const created = CREATED_BASE_S + nth;
  return { id: `gen-${created}-${base62(20, seed, 'generation', model, nth)}`, created, model, provider: providerFor(model) };
}
