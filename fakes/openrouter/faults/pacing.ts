/**
 * How a reply unfolds in time, shared by every fault that sends tokens (reply, empty, disconnect, midStream,
 * malformed): the stream opens at arrival, `: OPENROUTER PROCESSING` comments fill the wait for the first token,
 * then token i is due at ttft + i / tokensPerSecond, scheduled from arrival so that delays never accumulate.
 */
import type { Exchange } from '../exchange.js';
import { generatedText, tokensAtLeast } from '../reply-text.js';
import { contentChunk, usageFor, type FinishReason, type Usage } from '../wire/completion.js';

export interface Pace {
  /** Scenario ms from arrival to the first token. */
  ttftMs: number;
  tokensPerSecond: number;
}

export interface ReplyPlan {
  tokens: string[];
  pace: Pace;
}

/** Text and pace of a reply: the fault's own fields over `fake.reply`; no text anywhere: a seeded sentence. */
export function replyPlan(ex: Exchange, overrides: { text?: string; ttftMs?: number; tokensPerSecond?: number } = {}, minTokens = 0): ReplyPlan {
  const text = overrides.text ?? ex.defaults.text ?? generatedText(ex.seed, ex.model, ex.nth);
  return {
    tokens: tokensAtLeast(text, minTokens, ex.seed, ex.model, ex.nth),
    pace: {
      ttftMs: overrides.ttftMs ?? ex.defaults.ttftMs,
      tokensPerSecond: overrides.tokensPerSecond ?? ex.defaults.tokensPerSecond,
    },
  };
}

/** Scenario ms after arrival at which token `i` (0-based) is due. */
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

/** Sends tokens [0, count) as content chunks, each at its due time. */
export async function streamTokens(ex: Exchange, plan: ReplyPlan, count = plan.tokens.length): Promise<void> {
  for (let i = 0; i < count; i++) {
    await ex.waitUntil(tokenDueMs(plan.pace, i));
    ex.event(contentChunk(ex.generation, plan.tokens[i] ?? '', i === 0));
  }
}

/** Scenario ms at which a non-stream answer of `count` tokens is ready: when a stream would send its last token. */
export function nonStreamReadyMs(pace: Pace, count: number): number {
  return tokenDueMs(pace, Math.max(0, count - 1));
}

export function usageOf(ex: Exchange, completionTokens: number): Usage {
  return usageFor(ex.model, ex.promptTokens, completionTokens);
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
