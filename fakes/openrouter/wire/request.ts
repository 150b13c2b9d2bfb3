/**
 * Reading a chat completion request the way OpenRouter does: JSON, `messages` required, known fields type-checked,
 * OpenRouter's extras (`models`, `provider`, `transforms`, `route`, `usage`, ...) and unknown fields accepted.
 */
import { z } from 'zod';
import { formatPath } from '../../../contract/scenario/load.js';
import { FAKE_WORDED, MODELS_MAX, OBSERVED } from './errors.js';

const message = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).optional(),
  messages: z.array(message),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  tools: z.array(z.unknown()).nullable().optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  provider: z
    .looseObject({
      only: z.array(z.string()).nullable().optional(),
      order: z.array(z.string()).nullable().optional(),
      ignore: z.array(z.string()).nullable().optional(),
      allow_fallbacks: z.boolean().nullable().optional(),
    })
    .nullable()
    .optional(),
  response_format: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('json_object') }),
      z.looseObject({ type: z.literal('json_schema'), json_schema: z.looseObject({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional() }) }),
    ])
    .nullable()
    .optional(),
  reasoning: z
    .looseObject({ effort: z.string().optional(), max_tokens: z.number().int().optional(), exclude: z.boolean().optional(), enabled: z.boolean().optional() })
    .nullable()
    .optional(),
  include_reasoning: z.boolean().nullable().optional(),
  transforms: z.array(z.string()).optional(),
  route: z.string().optional(),
  usage: z.looseObject({ include: z.boolean().optional() }).optional(),
});
export type ChatRequest = z.output<typeof chatRequestSchema>;

export type ReadResult = { ok: true; request: ChatRequest } | { ok: false; message: string };

/** Parses the raw body. Messages for a bad body are OpenRouter's where known (see wire/errors.ts). */
export function readChatRequest(rawBody: string): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, message: FAKE_WORDED.notJson };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json) || !Array.isArray((json as { messages?: unknown }).messages)) {
    return { ok: false, message: OBSERVED.noInput };
  }
  const parsed = chatRequestSchema.safeParse(json);
  if (parsed.success) {
    // A whole request refused, not a fallback list cut short: the client must send fewer (OpenRouter's wording).
    if ((parsed.data.models?.length ?? 0) > MODELS_MAX) return { ok: false, message: OBSERVED.tooManyModels };
    return { ok: true, request: parsed.data };
  }
  const issue = parsed.error.issues[0];
  // zod's own wording ("Invalid input: expected boolean, received string"), which OpenRouter's validation errors
  // also use, prefixed with the field.
  return { ok: false, message: `${formatPath(issue?.path ?? [])}: ${issue?.message ?? 'Invalid input'}` };
}

/** The models to try in order: `model`, then `models[]`, without repeats. */
export function candidateModels(request: ChatRequest): string[] {
  return [...new Set([...(request.model ? [request.model] : []), ...(request.models ?? [])])];
}

/** The output cap the request sets (`max_tokens`, `max_completion_tokens`: the smaller when both), if any. */
export function maxTokens(request: ChatRequest): number | undefined {
  const caps = [request.max_tokens, request.max_completion_tokens].filter((n): n is number => typeof n === 'number');
  return caps.length > 0 ? Math.min(...caps) : undefined;
}

/** True when the request asks to see reasoning (`reasoning` not excluded or disabled, or `include_reasoning`). */
export function wantsReasoning(request: ChatRequest): boolean {
  const r = request.reasoning;
  if (r) return r.exclude !== true && r.enabled !== false;
  return request.include_reasoning === true;
}

/** True when the request offers at least one tool (LiveKit's plugin always sends `tools`, often empty). */
export function offersTools(request: ChatRequest): boolean {
  return (request.tools?.length ?? 0) > 0;
}

/** What the request answers: the caller (`user`), a tool's result (`toolResult`), or neither. */
export function answering(request: ChatRequest): 'user' | 'toolResult' | 'other' {
  const role = request.messages.at(-1)?.role;
  return role === 'tool' ? 'toolResult' : role === 'user' ? 'user' : 'other';
}

/** A rough prompt size: four characters per token, as tokenizer-free estimates usually assume. */
export function promptTokens(request: ChatRequest): number {
  let chars = 0;
  for (const m of request.messages) {
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        const text = (part as { text?: unknown } | null)?.text;
        if (typeof text === 'string') chars += text.length;
      }
    }
  }
  return Math.max(1, Math.ceil(chars / 4));
}
