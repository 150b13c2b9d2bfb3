/**
 * One chat request as the fault modules see it: what was asked, the clock, and every way to answer (JSON, SSE
 * events and comments, a cut or reset socket). All waiting goes through the scenario clock and stops when the
 * client leaves or the server closes (`signal`), so no timer outlives its request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RehearsalClock } from '../../contract/clock.js';
import type { JournalEntry } from '../../contract/journal.js';
import type { FakeSection } from '../../contract/scenario/schema.js';
import type { Calendar } from './calendar.js';
import { sendError, sendJson } from './routes/respond.js';
import type { FinishReason, Generation } from './wire/completion.js';
import type { Ticker } from './ticker.js';
import type { OpenRouterError } from './wire/errors.js';
import type { PresetContext } from './wire/presets.js';
import { offersTools, wantsReasoning, type ChatRequest } from './wire/request.js';

/** The scenario's default answer (`fake.reply`). */
export type ReplyDefaults = FakeSection['reply'];

/** What `GET /api/v1/generation` reports about a generation the fake produced. */
export interface GenerationRecord {
  generation: Generation;
  streamed: boolean;
  cancelled: boolean;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** USD. */
  cost: number;
  /** Scenario ms from arrival to the first token. */
  latencyMs: number;
  /** Scenario ms from arrival to the end of the generation. */
  generationTimeMs: number;
}

export interface ExchangeInit {
  req: IncomingMessage;
  res: ServerResponse;
  clock: RehearsalClock;
  /** Wakes the waits of every open request due in the same instant with one timer (ticker.ts). */
  ticker: Ticker;
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
  entry: JournalEntry;
  /** The request as read (validated). */
  request: ChatRequest;
  /** Whether a model is declared to reason. */
  reasons(model: string): boolean;
  seed: number;
  stream: boolean;
  keepAliveEveryMs: number;
  /** OpenRouter's calendar (`fake.startsAt`, or the clock's wall origin), for rate-limit resets. */
  calendar: Calendar;
  defaults: ReplyDefaults;
  promptTokens: number;
  userId: string;
  recordGeneration(record: GenerationRecord): void;
}

/** Scenario ms below which a wait is not worth a timer. */
const MIN_WAIT_MS = 0.5;

export class Exchange {
  /** The model being tried (changes during `models[]` fallback). */
  model = '';
  /** 1-based number of this request among requests for `model` since reset. */
  nth = 0;
  /** Id, created, model and provider of the answer for `model`. */
  generation: Generation = { id: '', created: 0, model: '', provider: '' };

  /** Rejects the wait in progress (a request waits for one thing at a time). */
  private abortWait: (() => void) | undefined;

  constructor(private readonly init: ExchangeInit) {
    // One listener for the whole request, not one per wait: a stream waits once per token.
    init.signal.addEventListener('abort', () => this.abortWait?.(), { once: true });
  }

  get stream(): boolean {
    return this.init.stream;
  }
  get signal(): AbortSignal {
    return this.init.signal;
  }
  get seed(): number {
    return this.init.seed;
  }
  get defaults(): ReplyDefaults {
    return this.init.defaults;
  }
  get keepAliveEveryMs(): number {
    return this.init.keepAliveEveryMs;
  }
  get promptTokens(): number {
    return this.init.promptTokens;
  }
  get request(): ChatRequest {
    return this.init.request;
  }
  /** True when the model being tried reasons (`fake.catalog`) and the request asks to see it. */
  get reasons(): boolean {
    return this.init.reasons(this.model) && wantsReasoning(this.init.request);
  }
  /** True when the request offers tools a reply may call (`tools` non-empty, `tool_choice` not "none"). */
  get offersTools(): boolean {
    return offersTools(this.init.request) && this.init.request.tool_choice !== 'none';
  }
  /** Scenario ms of arrival. */
  get arrivalMs(): number {
    return this.init.entry.at;
  }

  /** Scenario ms since arrival. */
  elapsed(): number {
    return this.init.clock.now() - this.init.entry.at;
  }

  /**
   * Resolves `msSinceArrival` scenario ms after arrival (at once if that is past; the clock never wakes early, so
   * one sleep is enough). Less than half a scenario millisecond is not waited for: below the journal's resolution,
   * and any timer would cost a whole wall millisecond. Rejects on abort.
   */
  async waitUntil(msSinceArrival: number): Promise<void> {
    this.signal.throwIfAborted();
    const left = msSinceArrival - this.elapsed();
    if (left < MIN_WAIT_MS) return;
    const dueMs = this.arrivalMs + msSinceArrival;
    await new Promise<void>((resolve, reject) => {
      const cancel = this.init.ticker.at(dueMs, () => {
        this.abortWait = undefined;
        resolve();
      });
      this.abortWait = () => {
        this.abortWait = undefined;
        cancel();
        reject(this.signal.reason);
      };
    });
  }

  /** Resolves when the client goes away or the server closes. */
  untilAborted(): Promise<void> {
    if (this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Inputs of an error preset for the current model. */
  presetContext(): PresetContext {
    const calendar = this.init.calendar;
    return {
      model: this.model,
      provider: this.generation.provider,
      scenarioEpochMs: calendar.at(this.arrivalMs),
      toWallEpochMs: calendar.toWallEpochMs,
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Answers

  sendJson(status: number, body: unknown, headers: Record<string, string> = {}): void {
    sendJson(this.init.res, status, body, headers);
  }

  /** An OpenRouter error before any byte: status = `error.code`, plus the error's own headers. */
  sendError(err: OpenRouterError): void {
    sendError(this.init.res, err, err.authenticated === false ? undefined : this.init.userId);
  }

  /** The account id for error bodies. */
  get userId(): string {
    return this.init.userId;
  }

  /** 200 with SSE headers, sent at once, as OpenRouter does before the provider answers. */
  openStream(): void {
    const res = this.init.res;
    if (res.headersSent) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Generation-Id': this.generation.id,
    });
    res.flushHeaders();
  }

  /** Headers of a non-stream 200 without its body (a body that never comes). */
  openJson(): void {
    const res = this.init.res;
    if (res.headersSent) return;
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Generation-Id': this.generation.id });
    res.flushHeaders();
  }

  /** The keep-alive comment OpenRouter sends while the provider has not answered. */
  comment(): void {
    this.write(': OPENROUTER PROCESSING\n\n');
  }

  /** One `data:` event holding JSON. */
  event(data: unknown): void {
    this.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** `data:` events holding JSON, in one socket write. */
  events(data: readonly unknown[]): void {
    this.write(data.map((d) => `data: ${JSON.stringify(d)}\n\n`).join(''));
  }

  /** One `data:` event holding `text` as is (for lines that are not JSON). */
  dataLine(text: string): void {
    this.write(`data: ${text}\n\n`);
  }

  /** `data: [DONE]`, then the end of the response. */
  done(): void {
    this.write('data: [DONE]\n\n');
    this.end();
  }

  /** Ends the response cleanly (the chunked body terminates). */
  end(body?: string): void {
    const res = this.init.res;
    if (!res.destroyed && !res.writableEnded) res.end(body);
  }

  /** Resolves once everything written so far has been handed to the socket. */
  flush(): Promise<void> {
    const res = this.init.res;
    if (res.destroyed || res.writableEnded) return Promise.resolve();
    return new Promise((resolve) => res.write('', () => resolve()));
  }

  /** Closes the socket without finishing the response (the client sees the body end early). */
  cut(): void {
    this.init.req.socket.destroy();
  }

  /** Resets the connection (TCP RST): the client sees ECONNRESET. */
  resetConnection(): void {
    const socket = this.init.req.socket;
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  }

  recordGeneration(record: Omit<GenerationRecord, 'generation' | 'promptTokens' | 'streamed'>): void {
    this.init.recordGeneration({ ...record, generation: this.generation, promptTokens: this.promptTokens, streamed: this.stream });
  }

  private write(text: string): void {
    const res = this.init.res;
    if (!res.destroyed && !res.writableEnded) res.write(text);
  }
}
