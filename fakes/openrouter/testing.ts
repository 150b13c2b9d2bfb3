/**
 * Helpers for the fake's tests: scenarios from plain objects, a started fake that each test closes, the openai
 * client pointed at it, and raw HTTP that keeps every byte and every socket error.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import type { JournalEntry } from '../../contract/journal.js';
import { parseScenario } from '../../contract/scenario/load.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { startFake, type FakeOptions, type RunningFake } from './server.js';

export const MODEL_A = 'meta-llama/llama-3.3-70b-instruct:free';
export const MODEL_B = 'qwen/qwen-2.5-72b-instruct:free';
export const KEY = 'sk-or-v1-test-key-0123456789';

/** A valid scenario: seed 7, agent chain [MODEL_A, MODEL_B], the given `fake` section. */
export function makeScenario(fake: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Scenario {
  const doc = { name: 'test', description: 'a test scenario', seed: 7, agent: { models: [MODEL_A, MODEL_B] }, fake, ...top };
  return parseScenario(stringify(doc), 'test.yaml');
}

/** Starts a fake on a free loopback port. Speed 20 unless told otherwise. */
export function fakeFor(fake: Record<string, unknown> = {}, options: Partial<FakeOptions> = {}): Promise<RunningFake> {
  return startFake({ scenario: makeScenario(fake), speed: 20, ...options });
}

export function openaiFor(fake: RunningFake): OpenAI {
  return new OpenAI({ baseURL: fake.baseURL, apiKey: KEY, maxRetries: 0, timeout: 60_000, logLevel: 'off' });
}

export const USER = [{ role: 'user' as const, content: 'What is the capital of France?' }];

export interface RawResponse {
  status?: number;
  headers?: IncomingHttpHeaders;
  /** Names and values as sent, alternating (duplicates kept). */
  rawHeaders?: string[];
  /** Every body byte received, as text. */
  body: string;
  /** A socket or parse error (ECONNRESET, "socket hang up", "aborted"). */
  error?: NodeJS.ErrnoException;
  /** True when the body ended normally. */
  complete: boolean;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Called with the body so far after each chunk; return true to hang up. */
  stopWhen?: (bodySoFar: string) => boolean;
  signal?: AbortSignal;
}

/** One request on its own connection; resolves (never rejects) with whatever happened. */
export function raw(url: string, options: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const result: RawResponse = { body: '', complete: false };
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      result.status = res.statusCode;
      result.headers = res.headers;
      result.rawHeaders = res.rawHeaders;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        result.body += chunk;
        if (options.stopWhen?.(result.body)) {
          req.destroy();
          settle();
        }
      });
      res.on('end', () => {
        result.complete = true;
        settle();
      });
      res.on('error', (err) => {
        result.error = err;
        settle();
      });
      res.on('close', settle);
    });
    req.on('error', (err) => {
      result.error ??= err;
      settle();
    });
    options.signal?.addEventListener('abort', () => {
      req.destroy();
      settle();
    });
    req.end(options.body);
  });
}

/** POST /chat/completions with the test key. */
export function rawChat(fake: RunningFake, body: Record<string, unknown>, options: Omit<RawOptions, 'body' | 'method'> = {}): Promise<RawResponse> {
  return raw(`${fake.baseURL}/chat/completions`, {
    ...options,
    method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
  });
}

/** An SSE body split into its blocks: comments (without ": "), and data payloads in order. */
export function sse(body: string): { comments: string[]; data: string[]; blocks: string[] } {
  const blocks = body.split('\n\n').filter((b) => b !== '');
  return {
    blocks,
    comments: blocks.filter((b) => b.startsWith(':')).map((b) => b.slice(2)),
    data: blocks.filter((b) => b.startsWith('data: ')).map((b) => b.slice('data: '.length)),
  };
}

/** The content chunks' text joined. */
export function streamedText(data: string[]): string {
  return data
    .filter((d) => d.startsWith('{'))
    .map((d) => (JSON.parse(d) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
    .join('');
}

/** Resolves with the next `closed` journal entry for which `pick` is true. */
export function nextClosed(fake: RunningFake, pick: (e: JournalEntry) => boolean = () => true): Promise<JournalEntry> {
  return new Promise((resolve) => {
    const on = (entry: JournalEntry) => {
      if (!pick(entry)) return;
      fake.events.off('closed', on);
      resolve(entry);
    };
    fake.events.on('closed', on);
  });
}

/** Reads an openai stream to its end; returns each chunk's text and the error that ended it, if any. */
export async function drain(stream: AsyncIterable<{ choices: { delta?: { content?: string | null } }[] }>): Promise<{ seen: string[]; error?: unknown }> {
  const seen: string[] = [];
  try {
    for await (const chunk of stream) seen.push(chunk.choices[0]?.delta?.content ?? '');
    return { seen };
  } catch (error) {
    return { seen, error };
  }
}
