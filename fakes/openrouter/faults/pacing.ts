/**
 * How a reply unfolds in time, shared by every fault that sends tokens (reply, empty, disconnect, midStream,
 * malformed): the stream opens at arrival, `: OPENROUTER PROCESSING` comments fill the wait for the first token,
 * then slot i is due at ttft + i / tokensPerSecond, scheduled from arrival so that delays never accumulate.
 *
 * A reply is a list of slots, one chunk and one completion token each: its text tokens, then for each scripted
 * tool call its start (id, type, name) and its arguments in pieces, as OpenRouter streams them.
 */
import type { ToolCall } from '../../../contract/scenario/schema.js';
import type { Exchange } from '../exchange.js';
import { maxTokens } from '../wire/request.js';
import { generatedText, tokenize, tokensAtLeast } from '../reply-text.js';
import { structuredText } from '../wire/structured.js';
import {
  contentChunk,
  reasoningChunk,
  toolCallArgumentsChunk,
  toolCallId,
  toolCallStartChunk,
  usageFor,
  type FinishReason,
  type Usage,
  type WireToolCall,
} from '../wire/completion.js';

export interface Pace {
  /** Scenario ms from arrival to the first token. */
  ttftMs: number;
  tokensPerSecond: number;
}

export type Slot =
  | { kind: 'reasoning'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'call'; index: number; id: string; name: string }
  | { kind: 'arguments'; index: number; piece: string };

export interface ReplyPlan {
  /** The text tokens ("Paris", " is", ...). */
  tokens: string[];
  /** The reasoning tokens sent before the text (a model declared to reason, a request asking for it). */
  reasoning: string[];
  /** The tool calls the reply makes (none when the request offers no tools). */
  toolCalls: WireToolCall[];
  /** Everything the stream sends between the first token and the finish chunk, in order. */
  slots: Slot[];
  /** How a complete answer ends: `length` when `max_tokens` cut it, `tool_calls` when it calls, else `stop`. */
  finish: 'stop' | 'length' | 'tool_calls';
  pace: Pace;
}

export interface ReplyOverrides {
  text?: string;
  ttftMs?: number;
  tokensPerSecond?: number;
  toolCalls?: ToolCall[];
}

/** Characters per streamed piece of a tool call's arguments: about one token, as prompt sizes are estimated. */
const ARGUMENT_PIECE_CHARS = 4;

/** "{\"id\":\"4417\"}" -> ["{\"id", "\":\"4", "417\"", "}"]: whole code points, never half a surrogate pair. */
export function argumentPieces(text: string): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += ARGUMENT_PIECE_CHARS) pieces.push(chars.slice(i, i + ARGUMENT_PIECE_CHARS).join(''));
  return pieces;
}

/**
 * Text, tool calls and pace of a reply: the fault's own fields over `fake.reply`; no text anywhere: a seeded
 * sentence. Scripted tool calls are made only when the request offers tools (and `tool_choice` is not "none"),
 * as a model can only call what it was given; a tool-call reply has no text unless the rule gives one. The
 * request's `max_tokens` (or `max_completion_tokens`) cuts the slots there, and the reply then ends in `length`.
 * With `response_format` the text is JSON (wire/structured.ts), streamed in pieces of about a token; a model
 * declared to reason, asked for reasoning, first streams a seeded sentence of reasoning.
 */
export function replyPlan(ex: Exchange, overrides: ReplyOverrides = {}, minTokens = 0): ReplyPlan {
  const calls = ex.offersTools ? (overrides.toolCalls ?? []) : [];
  const text = overrides.text ?? (calls.length > 0 ? '' : (ex.defaults.text ?? generatedText(ex.seed, ex.model, ex.nth)));
  const structured = calls.length > 0 ? undefined : structuredText(ex.request.response_format, text);
  const tokens =
    structured !== undefined
      ? argumentPieces(structured)
      : calls.length > 0
        ? tokensAtLeast(text, 0, ex.seed, ex.model, ex.nth)
        : tokensAtLeast(text, minTokens, ex.seed, ex.model, ex.nth);
  const thinking = ex.reasons ? tokenize(generatedText(ex.seed, `${ex.model} reasoning`, ex.nth)) : [];
  const scripted = calls.map((c, index) => ({ id: toolCallId(ex.seed, ex.model, ex.nth, index), name: c.name, arguments: c.arguments }));
  const whole: Slot[] = [
    ...thinking.map((t): Slot => ({ kind: 'reasoning', text: t })),
    ...tokens.map((t): Slot => ({ kind: 'text', text: t })),
    ...scripted.flatMap((c, index): Slot[] => [
      { kind: 'call', index, id: c.id, name: c.name },
      ...argumentPieces(c.arguments).map((piece): Slot => ({ kind: 'arguments', index, piece })),
    ]),
  ];
  // `max_tokens` / `max_completion_tokens`: the model stops generating there, mid-word or mid-call.
  const cap = maxTokens(ex.request);
  const cut = cap !== undefined && whole.length > cap;
  const slots = cut ? whole.slice(0, cap) : whole;
  const toolCalls = callsIn(slots);
  return {
    tokens: slots.flatMap((slot) => (slot.kind === 'text' ? [slot.text] : [])),
    reasoning: slots.flatMap((slot) => (slot.kind === 'reasoning' ? [slot.text] : [])),
    toolCalls,
    slots,
    finish: cut ? 'length' : toolCalls.length > 0 ? 'tool_calls' : 'stop',
    pace: {
      ttftMs: overrides.ttftMs ?? ex.defaults.ttftMs,
      tokensPerSecond: overrides.tokensPerSecond ?? ex.defaults.tokensPerSecond,
    },
  };
}

/** The tool calls whose start is among `slots`, with the argument pieces that are there too. */
function callsIn(slots: readonly Slot[]): WireToolCall[] {
  const calls: WireToolCall[] = [];
  for (const slot of slots) {
    if (slot.kind === 'call') calls[slot.index] = { id: slot.id, name: slot.name, arguments: '' };
    else if (slot.kind === 'arguments') {
      const call = calls[slot.index];
      if (call) call.arguments += slot.piece;
    }
  }
  return calls.filter(Boolean);
}

/** The reply overrides of a fault that streams part of a reply (its text, pace and tool calls). */
export function streamedOverrides(f: { text?: string; ttftMs?: number; tokensPerSecond?: number; toolCalls?: ToolCall[] }): ReplyOverrides {
  return {
    ...(f.text !== undefined && { text: f.text }),
    ...(f.ttftMs !== undefined && { ttftMs: f.ttftMs }),
    ...(f.tokensPerSecond !== undefined && { tokensPerSecond: f.tokensPerSecond }),
    ...(f.toolCalls && { toolCalls: f.toolCalls }),
  };
}

/** " of a reply calling lookup_order", or nothing: for the sentence of a fault that streams part of a reply. */
export function callingText(toolCalls: readonly ToolCall[] | undefined): string {
  return toolCalls ? ` of a reply calling ${toolCalls.map((c) => c.name).join(', ')}` : '';
}

/** Scenario ms after arrival at which slot `i` (0-based) is due. */
export function tokenDueMs(pace: Pace, i: number): number {
  return pace.ttftMs + (i * 1000) / pace.tokensPerSecond;
}

/** Opens the SSE stream and sends keep-alive comments every `keepAliveEveryMs` until the first token is due. */
export async function openAndAwaitFirstToken(ex: Exchange, pace: Pace): Promise<void> {
  ex.openStream();
  for (let at = ex.keepAliveEveryMs; at < pace.ttftMs; at += ex.keepAliveEveryMs) {
    await ex.waitUntil(at);
    ex.comment();
  }
  await ex.waitUntil(pace.ttftMs);
}

function slotChunk(ex: Exchange, slot: Slot, first: boolean) {
  switch (slot.kind) {
    case 'reasoning':
      return reasoningChunk(ex.generation, slot.text, first);
    case 'text':
      return contentChunk(ex.generation, slot.text, first);
    case 'call':
      return toolCallStartChunk(ex.generation, slot.index, slot.id, slot.name, first);
    case 'arguments':
      return toolCallArgumentsChunk(ex.generation, slot.index, slot.piece);
  }
}

/**
 * Sends slots [0, count) as chunks, each at its due time. Chunks already due when one goes out (the process was
 * busy, or several fall in one wall millisecond at a high speed) go out in the same socket write: the same bytes
 * at the same instant, one syscall instead of one each. `bench:fake`'s profile of 200 streams put the fake's
 * busy time mostly in `writev`, one per chunk per stream, so a stream that fell behind caught up slowest.
 */
export async function streamTokens(ex: Exchange, plan: ReplyPlan, count = plan.slots.length): Promise<void> {
  const n = Math.min(count, plan.slots.length);
  for (let i = 0; i < n; ) {
    await ex.waitUntil(tokenDueMs(plan.pace, i));
    const due: unknown[] = [];
    do {
      due.push(slotChunk(ex, plan.slots[i] as Slot, i === 0));
      i++;
    } while (i < n && tokenDueMs(plan.pace, i) <= ex.elapsed());
    ex.events(due);
  }
}

/** Scenario ms at which a non-stream answer of `count` tokens is ready: when a stream would send its last token. */
export function nonStreamReadyMs(pace: Pace, count: number): number {
  return tokenDueMs(pace, Math.max(0, count - 1));
}

export function usageOf(ex: Exchange, completionTokens: number, reasoningTokens = 0): Usage {
  return usageFor(ex.model, ex.promptTokens, completionTokens, reasoningTokens);
}

/** Records the generation for `GET /api/v1/generation`. */
export function recordGeneration(ex: Exchange, plan: ReplyPlan, completionTokens: number, finishReason: FinishReason, cancelled = false): void {
  ex.recordGeneration({
    cancelled,
    finishReason,
    completionTokens,
    cost: usageOf(ex, completionTokens).cost,
    latencyMs: Math.round(plan.pace.ttftMs),
    generationTimeMs: Math.round(ex.elapsed()),
  });
}
