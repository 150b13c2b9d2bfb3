/** The real llama-server with the tiny model, through the official openai client. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { APIConnectionError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLlama, type LlamaSetup } from '../ensure.js';
import { isAlive } from '../../kit/processes.js';
import { isConnectionRefused } from '../testing/down.js';
import { FALLBACK_SENTENCE } from './grammar.js';
import { startLlamaServer, type LlamaServer } from './start.js';
import { tempDir } from '../../../test/kit/temp.js';

const scratch = tempDir('never');
let setup: LlamaSetup;
let server: LlamaServer;
const client = (baseURL: string): OpenAI => new OpenAI({ baseURL, apiKey: 'not-needed', maxRetries: 0, timeout: 30_000 });
const messages = [{ role: 'user' as const, content: 'Are you there?' }];

beforeAll(async () => {
  setup = await ensureLlama(); // instant: the global setup built it
  server = await startLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath });
}, 20 * 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('llama-server with the tiny model', () => {
  it('binds 127.0.0.1 and reports healthy', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.baseURL).toBe(`${server.url}/v1`);
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers exactly the grammar sentence (not streamed)', async () => {
    const completion = await client(server.baseURL).chat.completions.create({ model: 'anything', messages });
    expect(completion.choices[0]?.message.content).toBe(FALLBACK_SENTENCE);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.model).toBe('holdline-tiny');
  });

  it('streams exactly the grammar sentence, in several chunks', async () => {
    const stream = await client(server.baseURL).chat.completions.create({ model: 'anything', messages, stream: true });
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta?.content ?? '');
    expect(pieces.join('')).toBe(FALLBACK_SENTENCE);
    expect(pieces.filter(Boolean).length).toBeGreaterThan(1);
  });

  it('lists its alias as the model', async () => {
    const models = await client(server.baseURL).models.list();
    expect(models.data.map((m) => m.id)).toContain('holdline-tiny');
  });

  it('says any sentence it is given, quotes and newlines included', async () => {
    const sentence = 'He said "hold the line" \\ then:\nyes.';
    const custom = await startLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath, grammarSentence: sentence, alias: 'custom' });
    try {
      const completion = await client(custom.baseURL).chat.completions.create({ model: 'custom', messages });
      expect(completion.choices[0]?.message.content).toBe(sentence);
    } finally {
      await custom.stop();
    }
  });

  it('stop() ends the process, after which connections are refused', async () => {
    const temporary = await startLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath });
    expect(isAlive(temporary.pid)).toBe(true);
    await temporary.stop();
    await temporary.stop(); // twice is fine
    expect(isAlive(temporary.pid)).toBe(false);
    const error = await client(temporary.baseURL)
      .chat.completions.create({ model: 'x', messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(isConnectionRefused(error)).toBe(true);
  });

  it('aborting the signal stops the server', async () => {
    const controller = new AbortController();
    const temporary = await startLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath, signal: controller.signal });
    controller.abort();
    await temporary.exited;
    expect(isAlive(temporary.pid)).toBe(false);
  });

  it('fails clearly, with the server\'s last output, when it cannot start', async () => {
    const failure = startLlamaServer({ serverBin: setup.serverBin, model: '/nonexistent/model.gguf' });
    await expect(failure).rejects.toThrow(/llama-server on http:\/\/127\.0\.0\.1:\d+ exited .* before it was healthy[\s\S]*Last output:[\s\S]*nonexistent/);
  });

  it('gives up after readyTimeoutMs on a server that never gets healthy, and kills it', async () => {
    const never = join(scratch, 'never-healthy');
    // Prints its pid, then (exec keeps the pid) sleeps without ever listening.
    writeFileSync(never, '#!/bin/sh\necho "pretending to load, pid $$" >&2\nexec sleep 60\n', { mode: 0o755 });
    let pid = 0;
    const onLog = (line: string): void => void (pid = Number(/pid (\d+)/.exec(line)?.[1] ?? pid));
    const failure = startLlamaServer({ serverBin: never, model: setup.modelPath, readyTimeoutMs: 500, onLog });
    await expect(failure).rejects.toThrow(/not healthy after 500 ms[\s\S]*pretending to load/);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('reports a crash after start through `exited`; stop() then resolves at once', async () => {
    const temporary = await startLlamaServer({ serverBin: setup.serverBin, model: setup.modelPath });
    process.kill(temporary.pid, 'SIGKILL');
    expect(await temporary.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await temporary.stop();
  });

  it('fails clearly when the binary cannot be run', async () => {
    await expect(startLlamaServer({ serverBin: '/nonexistent/llama-server', model: setup.modelPath })).rejects.toThrow(
      /could not start llama-server \/nonexistent\/llama-server: .*ENOENT/,
    );
  });
});
