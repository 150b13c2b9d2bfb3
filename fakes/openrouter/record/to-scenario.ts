/**
 * A recording made into a scenario that replays it: one rule per chat request, in arrival order, for that model's
 * nth request, answering as the upstream did (status and error body and headers; the reply's text, tool calls,
 * time to first token and token pace; the mid-stream error; the cut), with the provider that answered. The caller's
 * turns become `user` at their times. Without `keepContent` no words leave the recording: replies and tool
 * arguments become placeholders of the same length in tokens, the caller's turns "turn N". Pure.
 */
import { stringify } from 'yaml';
import type { ErrorPreset } from '../../../contract/scenario/schema.js';
import type { Piece, RecordedExchange, WireError } from './recorded.js';

export interface ToScenarioOptions {
  name: string;
  description: string;
  seed: number;
  keepContent: boolean;
}

/** The reply pace when a recording has only one token to time. */
const DEFAULT_TOKENS_PER_SECOND = 40;

/** The preset nearest an error's code: it only names the error in the rule's sentence (code, message, metadata are the recording's). */
function presetFor(code: number | string): ErrorPreset {
  const byCode: Record<string, ErrorPreset> = {
    '400': 'bad-request',
    '401': 'invalid-key',
    '402': 'insufficient-credits',
    '403': 'moderation',
    '404': 'no-endpoints',
    '408': 'timeout',
    '429': 'rate-limit-per-minute',
    '503': 'no-provider',
    rate_limit_exceeded: 'rate-limit-per-minute',
    invalid_prompt: 'bad-request',
  };
  return byCode[String(code)] ?? 'provider-down';
}

/** "x-ratelimit-reset" -> "X-RateLimit-Reset", "retry-after" -> "Retry-After": as OpenRouter writes them. */
export function canonicalHeader(name: string): string {
  return name
    .split('-')
    .map((w) => (w === 'ratelimit' ? 'RateLimit' : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('-');
}

const ms = (value: number) => `${Math.max(0, Math.round(value))}ms`;

interface Streamed {
  text: string;
  toolCalls: { name: string; arguments: string }[];
  tokens: number;
  ttft: string;
  tokensPerSecond: number;
}

function streamed(ex: RecordedExchange, keepContent: boolean): Streamed {
  const pieces = ex.pieces;
  const text = pieces.flatMap((p) => (p.kind === 'text' ? [p.text] : [])).join('');
  const calls: { name: string; arguments: string }[] = [];
  for (const p of pieces) {
    if (p.kind === 'call') calls[p.index] = { name: p.name, arguments: '' };
    else if (p.kind === 'arguments' && calls[p.index]) (calls[p.index] as { arguments: string }).arguments += p.text;
  }
  const first = pieces[0]?.atMs ?? ex.totalMs;
  const last = pieces.at(-1)?.atMs ?? first;
  const timed = new Set(pieces.map((p: Piece) => p.atMs)).size;
  const tokensPerSecond = timed > 1 && last > first ? Number((((pieces.length - 1) * 1000) / (last - first)).toFixed(3)) : DEFAULT_TOKENS_PER_SECOND;
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return {
    text: keepContent ? text : Array.from({ length: words }, () => 'withheld').join(' '),
    toolCalls: calls.filter(Boolean).map((c) => ({ name: c.name, arguments: keepContent ? c.arguments : '{}' })),
    tokens: pieces.length,
    ttft: ms(first),
    tokensPerSecond,
  };
}

function errorFields(error: WireError, keepContent: boolean) {
  return {
    error: presetFor(error.code),
    code: error.code,
    message: error.message,
    metadata: withoutCallerWords(error.metadata ?? {}, keepContent),
  };
}

/** Metadata fields that echo what the caller said (OpenRouter's moderation 403 quotes the flagged input). */
const CALLER_WORDS = ['flagged_input'];

/** Error metadata as written to a recording: without `keepContent`, fields quoting the caller are withheld. */
export function withoutCallerWords(metadata: Record<string, unknown>, keepContent: boolean): Record<string, unknown> {
  if (keepContent) return metadata;
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, CALLER_WORDS.includes(key) ? 'withheld' : value]));
}

/** The `then` that answers like the recorded exchange. */
export function thenFor(ex: RecordedExchange, keepContent: boolean): unknown {
  if (ex.ended === 'abandoned') return 'hang';
  if (ex.ended === 'reset') return 'reset';
  if (ex.status !== undefined && ex.status >= 400) {
    const headers = Object.fromEntries(Object.entries(ex.headers).map(([k, v]) => [canonicalHeader(k), v]));
    return {
      status: ex.status,
      message: ex.error?.message ?? '',
      ...(ex.error?.metadata !== undefined && { metadata: withoutCallerWords(ex.error.metadata, keepContent) }),
      ...(Object.keys(headers).length > 0 && { headers }),
    };
  }
  // The client gave up on a 200 that had sent nothing yet (its first-token deadline): replay the wait, not a cut.
  if (ex.ended === 'cut' && ex.clientLeft && ex.pieces.length === 0) return 'stall';
  const s = streamed(ex, keepContent);
  const calls = s.toolCalls.length > 0 ? { toolCalls: s.toolCalls } : {};
  if (!ex.stream) {
    // Not streamed: the answer is ready when a stream would send its last token; a fast pace puts that at the end.
    if (ex.error) return { midStream: { afterTokens: 0, ...errorFields(ex.error, keepContent), ttft: ms(ex.totalMs) } };
    const tokensPerSecond = 1000;
    return { text: s.text, ...calls, ttft: ms(ex.totalMs - Math.max(0, s.tokens - 1)), tokensPerSecond };
  }
  const part = { text: s.text, ttft: s.ttft, tokensPerSecond: s.tokensPerSecond, ...calls };
  if (ex.ended === 'error-event' && ex.streamError) return { midStream: { afterTokens: s.tokens, ...errorFields(ex.streamError, keepContent), ...part } };
  if (ex.failedFinish) {
    const native = ex.failedFinish === 'error' ? {} : { native: ex.failedFinish };
    return { failedFinish: { afterTokens: s.tokens, ...native, text: s.text, ttft: s.ttft, tokensPerSecond: s.tokensPerSecond } };
  }
  if (ex.ended === 'cut') return { disconnect: { afterTokens: s.tokens, ...part, ...(s.tokens === 0 && { ttft: ms(ex.totalMs) }) } };
  if (s.tokens === 0) return 'empty';
  return part;
}

/** The scenario as YAML text. */
export function toScenarioYaml(recorded: readonly RecordedExchange[], options: ToScenarioOptions): string {
  const models = [...new Set(recorded.map((r) => r.model))];
  const providers = new Map<string, string>();
  for (const r of recorded) if (r.provider && !providers.has(r.model)) providers.set(r.model, r.provider);
  const nth = new Map<string, number>();
  const rules = recorded.map((r) => {
    const n = (nth.get(r.model) ?? 0) + 1;
    nth.set(r.model, n);
    return { when: { model: r.model, nth: n }, then: thenFor(r, options.keepContent) };
  });
  const turns: { at: string; say: string }[] = [];
  let lastSaid: string | undefined;
  for (const r of recorded) {
    if (r.answering !== 'user' || r.userKey === undefined || r.userKey === lastSaid) continue;
    lastSaid = r.userKey;
    turns.push({ at: ms(r.atMs), say: options.keepContent && r.userText !== undefined ? r.userText : `turn ${turns.length + 1}` });
  }
  const doc = {
    name: options.name,
    description: options.description,
    seed: options.seed,
    agent: { models: models.length > 0 ? models : ['openrouter/auto'] },
    fake: {
      ...(providers.size > 0 && { catalog: [...providers].map(([model, provider]) => ({ model, providers: [provider] })) }),
      rules,
    },
    ...(turns.length > 0 && { user: turns }),
  };
  return `# yaml-language-server: $schema=./scenario.schema.json\n# Recorded by npm run fake -- --record: replays each request as the upstream answered it.\n${stringify(doc, { lineWidth: 0 })}`;
}
