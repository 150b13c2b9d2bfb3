/**
 * One request to one backend, through LiveKit's openai plugin and the official `openai` client
 * (`maxRetries: 0`: retrying is the policy's job, not the SDK's). This is the I/O edge of the chain:
 * it enforces three deadlines on the injected clock and reports what it saw; `classify` decides what it means.
 *
 * Deadlines (from the request's start, scenario ms):
 * - headers: no response headers yet (a hang before any byte);
 * - first token: no content token yet. Keep-alive comments (`: OPENROUTER PROCESSING`) produce no chunk, so
 *   a stream of comments alone fails over here — the framework's own timeouts stop at headers;
 * - idle: the gap since the last content token.
 *
 * A fresh plugin LLM and client per attempt: the plugin reports stream errors as `error` events on its LLM,
 * not to the reader, so one LLM per attempt ties each error to its attempt; the client's `fetch` hook is how
 * we see the status and headers (Retry-After, X-RateLimit-Reset) that the plugin's error drops.
 */
import { llm as lkllm } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import OpenAI from 'openai';
import type { Clock } from '../../contract/clock.js';
import type { TokenUsage } from '../../contract/events.js';
import { ensureFrameworkLogger } from '../framework-logger.js';
import type { Backend } from './backends.js';
import { classify, type Failure, type Observation } from './classify.js';

export interface AttemptRequest {
  backend: Backend;
  chatCtx: lkllm.ChatContext;
  toolCtx?: lkllm.ToolContext;
  /** The framework's choice for this request ('none' after its tool-step limit), passed on as `tool_choice`. */
  toolChoice?: lkllm.ToolChoice;
  parallelToolCalls?: boolean;
  /**
   * The models this request carries after `backend` in `models[]` (OPENROUTER_SERVER_FALLBACK), when not the backend's
   * own list: the chain leaves out an id OpenRouter said it does not know, which would refuse the whole request.
   */
  fallbackModels?: readonly string[];
  clock: Clock;
  /** Aborts the attempt (the turn was cancelled). */
  signal: AbortSignal;
  /**
   * Receives every chunk with content or tool calls, as it arrives, and the model the response names as
   * answering (with `models[]`, maybe not the one asked), once known.
   */
  onChunk: (chunk: lkllm.ChatChunk, servedBy?: string) => void;
}

export interface AttemptResult {
  /** Undefined on success. */
  failure?: Failure;
  cancelled: boolean;
  /** True when any content (text or a tool call) was passed to `onChunk`. */
  textSent: boolean;
  /**
   * True when a tool call was passed to `onChunk`. LiveKit's plugin hands a call on only once it is complete (at
   * the finish chunk, or when the next parallel call starts), so the framework will run it and ask again.
   */
  toolCallSent?: boolean;
  status?: number;
  /** Scenario ms from request start to the first content token. */
  ttftMs?: number;
  /** Scenario ms from request start to the response headers (where OpenRouter's `models[]` fallback is over). */
  headersMs?: number;
  /**
   * The model that answered, as the response's `model` field names it. With OpenRouter's `models[]` it can be a
   * later model of the request than the one asked for: that is the model to book the answer to.
   */
  servedBy?: string;
  /** The response's `usage` (OpenRouter sends it in the stream's last chunk, cost included), when it came. */
  usage?: TokenUsage;
  /** The models the request carried after the one asked (`AttemptRequest.fallbackModels`), when not the backend's own list. */
  carried?: readonly string[];
}

/** Runs one attempt. Swappable, so the chain can be tested without HTTP. */
export type AttemptRunner = (request: AttemptRequest) => Promise<AttemptResult>;

export interface HttpAttemptOptions {
  /** Bearer key per backend kind (never logged). The local server needs none. */
  apiKeyFor: (backend: Backend) => string;
  /** Extra headers per backend kind (OpenRouter attribution: HTTP-Referer, X-Title). */
  headersFor?: (backend: Backend) => Record<string, string>;
  /** `max_tokens` and `temperature` for every request (LLM_MAX_TOKENS, LLM_TEMPERATURE); absent: the server's. */
  generation?: { maxTokens: number; temperature: number };
}

/** A wall-clock safety net far beyond any deadline of ours; our own deadlines (scaled) always fire first. */
const SDK_TIMEOUT_MS = 10 * 60_000;

export function httpAttemptRunner(options: HttpAttemptOptions): AttemptRunner {
  ensureFrameworkLogger();
  return async ({ backend, chatCtx, toolCtx, toolChoice, parallelToolCalls, fallbackModels, clock, signal, onChunk }) => {
    const carried = fallbackModels ?? backend.fallbackModels ?? [];
    const started = clock.now();
    const obs: Observation = { gotContent: false };
    let ttftMs: number | undefined;
    let headersMs: number | undefined;
    let servedBy: string | undefined;
    let usage: TokenUsage | undefined;
    let toolCallSent = false;

    const client = new OpenAI({
      baseURL: backend.baseURL,
      apiKey: options.apiKeyFor(backend),
      maxRetries: 0,
      timeout: SDK_TIMEOUT_MS,
      logLevel: 'off',
      defaultHeaders: options.headersFor?.(backend) ?? {},
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        const response = await fetch(url, init).catch((error: unknown) => {
          // undici's "fetch failed" carries the socket's error as its cause: refused (down) or reset (up, dropped us).
          const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
          if (typeof code === 'string') obs.socketCode = code;
          throw error;
        });
        headersMs = clock.now() - started;
        obs.status = response.status;
        obs.headers = Object.fromEntries(response.headers); // names come lower-cased
        return response;
      },
    });
    tapStream(client, {
      onModel: (served) => (servedBy ??= served),
      onUsage: (seen) => (usage = seen),
      onFailedFinish: (reason) => (obs.failedFinish ??= reason),
    });
    const model = new openaiPlugin.LLM({ model: backend.model, client });
    model.on('error', (event: { error: unknown }) => {
      obs.error ??= event.error;
    });
    const stream = model.chat({
      chatCtx,
      ...(toolCtx && { toolCtx }),
      ...(toolChoice !== undefined && { toolChoice }),
      ...(parallelToolCalls !== undefined && { parallelToolCalls }),
      // As body fields, not the plugin's options: it drops a temperature of 0 and sends only max_completion_tokens,
      // where OpenRouter's docs and llama.cpp's server both read max_tokens. `models`: OpenRouter's server-side
      // fallback, `model` first, then these, in one request.
      ...((options.generation || carried.length > 0) && {
        extraKwargs: {
          ...(options.generation && { max_tokens: options.generation.maxTokens, temperature: options.generation.temperature }),
          ...(carried.length > 0 && { models: [backend.model, ...carried] }),
        },
      }),
      connOptions: { maxRetry: 0, retryIntervalMs: 0, timeoutMs: SDK_TIMEOUT_MS },
    });

    const stop = (deadline: NonNullable<Observation['deadline']>) => {
      obs.deadline ??= deadline;
      stream.close();
    };
    const cancelHeaders = clock.schedule(() => obs.status === undefined && stop('headers'), backend.deadlines.headersMs);
    const cancelFirst = clock.schedule(() => !obs.gotContent && stop('first-token'), backend.deadlines.firstTokenMs);
    let cancelIdle = () => {};
    const onAbort = () => stream.close();
    signal.addEventListener('abort', onAbort, { once: true });

    try {
      for await (const chunk of stream) {
        if (signal.aborted || obs.deadline) break;
        const hasContent = Boolean(chunk.delta?.content) || Boolean(chunk.delta?.toolCalls?.length);
        if (!hasContent) continue;
        if (!obs.gotContent) {
          obs.gotContent = true;
          ttftMs = clock.now() - started;
        }
        cancelIdle();
        cancelIdle = clock.schedule(() => stop('idle'), backend.deadlines.idleMs);
        if (chunk.delta?.toolCalls?.length) toolCallSent = true;
        onChunk(chunk, servedBy);
      }
    } finally {
      cancelHeaders();
      cancelFirst();
      cancelIdle();
      signal.removeEventListener('abort', onAbort);
      stream.close();
    }

    const base = {
      textSent: obs.gotContent,
      toolCallSent,
      ...(obs.status !== undefined && { status: obs.status }),
      ...(ttftMs !== undefined && { ttftMs }),
      ...(headersMs !== undefined && { headersMs }),
      ...(servedBy !== undefined && { servedBy }),
      ...(usage && { usage }),
    };
    if (signal.aborted && !obs.deadline) return { ...base, cancelled: true };
    if (!obs.deadline && !obs.error && obs.failedFinish === undefined && obs.gotContent) return { ...base, cancelled: false };
    return { ...base, cancelled: false, failure: classify(obs, clock.toEpochMs(clock.now())) };
  };
}

/**
 * Reports the `model` of each streamed chunk that names one, and the `usage` of the one that carries it (OpenRouter's
 * last chunk: tokens and `cost`; its one choice only repeats the finish reason). The plugin reads the client's stream
 * and drops both (its ChatChunk has no model, and its usage has no cost), so the client's `create` is wrapped on this
 * one client: the stream is passed through chunk by chunk, unchanged (breaking out of it still closes the request
 * underneath).
 */
function tapStream(
  client: OpenAI,
  { onModel, onUsage, onFailedFinish }: { onModel: (model: string) => void; onUsage: (usage: TokenUsage) => void; onFailedFinish: (reason: string) => void },
): void {
  const completions = client.chat.completions;
  const create = completions.create.bind(completions) as (...args: unknown[]) => Promise<unknown>;
  const tapped = async (...args: unknown[]): Promise<unknown> => {
    const stream = await create(...args);
    if (!isAsyncIterable(stream)) return stream;
    return (async function* () {
      for await (const chunk of stream) {
        const model = (chunk as { model?: unknown } | null)?.model;
        if (typeof model === 'string' && model !== '') onModel(model);
        const usage = usageOf((chunk as { usage?: unknown } | null)?.usage);
        if (usage) onUsage(usage);
        const failed = failedFinish(chunk);
        if (failed !== undefined) onFailedFinish(failed);
        yield chunk;
      }
    })();
  };
  completions.create = tapped as typeof completions.create;
}

/** `native_finish_reason` values that say the provider failed, whatever the normalised `finish_reason` says. */
const FAILED_NATIVE = new Set(['error', 'network_error']);

/**
 * A finish that says the provider failed, in a chunk without an error event (one with an `error` never reaches here:
 * the client throws on it). OpenRouter normalises an upstream failure to `finish_reason: "error"`; threads report it
 * ending streams that way when the provider dies mid-answer (gethouston/houston#1211, OleksandrChekhovskyi/hax#15),
 * and an upstream `network_error` arriving as `finish_reason: "stop"` with the cause only in `native_finish_reason`
 * and no usage chunk (earendil-works/pi#8511). LiveKit's plugin passes neither on, so the attempt would read as a whole
 * answer: the caller would hear it cut off and no apology.
 */
function failedFinish(chunk: unknown): string | undefined {
  const choice = (chunk as { choices?: { finish_reason?: unknown; native_finish_reason?: unknown }[] } | null)?.choices?.[0];
  const native = choice?.native_finish_reason;
  if (typeof native === 'string' && FAILED_NATIVE.has(native)) return native;
  return choice?.finish_reason === 'error' ? 'error' : undefined;
}

/** OpenRouter's `usage` object as ours, or undefined when it is not one (a provider may send null or partial usage). */
function usageOf(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion, cost } = value as Record<string, unknown>;
  if (!isCount(prompt) || !isCount(completion)) return undefined;
  return { promptTokens: prompt, completionTokens: completion, ...(typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 && { costUsd: cost }) };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
