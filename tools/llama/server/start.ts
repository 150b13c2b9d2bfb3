/**
 * Starts a real llama-server for the harness and tests: the tiny model, one thread, a 1024 token context,
 * one slot, bound to 127.0.0.1, and a grammar that makes every completion the same sentence. Resolves once
 * /health is ok. The server is stopped by stop(), by the abort signal, and when this process exits or is
 * interrupted (see processes.ts), so no llama-server outlives its parent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { findServerBin } from '../ensure.js';
import { ensureTinyModel } from '../model.js';
import { followOutput } from '../output-tail.js';
import { killQuietly, trackChild } from '../processes.js';
import { freeLoopbackPort } from './free-port.js';
import { FALLBACK_SENTENCE, fixedSentenceGrammar } from './grammar.js';
import { waitUntilHealthy } from './health.js';

/** The model name the server reports and accepts (`model` in requests may be anything; this is what /v1/models lists). */
export const DEFAULT_ALIAS = 'holdline-tiny';

export interface StartLlamaServerOptions {
  /** GGUF to serve. Default: the tiny model (written to the cache if missing). */
  model?: string;
  /** llama-server binary. Default: LLAMA_SERVER_BIN, else the cached build (run `npm run llama:build` first). */
  serverBin?: string;
  /** Port on 127.0.0.1. Default: a free one (retried if another process grabs it first). */
  port?: number;
  /** Every completion answers exactly this. Default FALLBACK_SENTENCE; `null` for no grammar (random text). */
  grammarSentence?: string | null;
  /** Model name in /v1/models and responses. Default DEFAULT_ALIAS ("holdline-tiny"). */
  alias?: string;
  /** Generation and batch threads. Default 1 (2-core machines; more is slower here). */
  threads?: number;
  /** Context size in tokens. Default 1024. */
  ctx?: number;
  /** Milliseconds to wait for /health. Default 60 000 (generous: the machine may be busy compiling). */
  readyTimeoutMs?: number;
  /** Aborting stops the server (and rejects if it is still starting). */
  signal?: AbortSignal;
  /** Every line the server prints (stdout and stderr). */
  onLog?: (line: string) => void;
  /** More llama-server arguments, appended last. */
  extraArgs?: string[];
}

export interface LlamaServer {
  /** OpenAI-compatible base URL, `http://127.0.0.1:PORT/v1` (give it to the openai client). */
  baseURL: string;
  /** Server root, `http://127.0.0.1:PORT` (GET /health lives here). */
  url: string;
  port: number;
  /** Pid of the llama-server process. */
  pid: number;
  /** Model name the server reports. */
  alias: string;
  /** Resolves when the server process has exited, however that happened. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops the server: SIGTERM, then SIGKILL after 5 s. Resolves when it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

const TAIL_LINES = 30;
const STOP_GRACE_MS = 5000;
const BIND_RETRIES = 3;

class StartError extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

/** Starts llama-server and waits until it is healthy. */
export async function startLlamaServer(options: StartLlamaServerOptions = {}): Promise<LlamaServer> {
  const serverBin = options.serverBin ?? findServerBin();
  const model = options.model ?? (await ensureTinyModel()).path;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    try {
      return await startOnce(serverBin, model, port, options);
    } catch (error) {
      // A free port can be taken between our check and the server's bind; only then is retrying right.
      const retry = error instanceof StartError && error.portTaken && options.port === undefined && attempt < BIND_RETRIES;
      if (!retry) throw error;
    }
  }
}

/**
 * llama-server's command line for the tiny model: loopback, one thread, the grammar. Exported so a supervisor
 * that spawns the process itself (the scenario runner, in its own process group) uses the very same flags.
 */
export function serverArgs(model: string, port: number, options: StartLlamaServerOptions = {}): string[] {
  const { grammarSentence = FALLBACK_SENTENCE, alias = DEFAULT_ALIAS, threads = 1, ctx = 1024, extraArgs = [] } = options;
  const args = ['-m', model, '--host', '127.0.0.1', '--port', String(port), '--alias', alias];
  args.push('-t', String(threads), '-tb', String(threads), '-c', String(ctx), '-np', '1');
  if (grammarSentence !== null) args.push('--grammar', fixedSentenceGrammar(grammarSentence));
  return [...args, ...extraArgs];
}

async function startOnce(serverBin: string, model: string, port: number, options: StartLlamaServerOptions): Promise<LlamaServer> {
  const { readyTimeoutMs = 60_000, signal, onLog, alias = DEFAULT_ALIAS } = options;
  signal?.throwIfAborted();
  const url = `http://127.0.0.1:${port}`;
  const args = serverArgs(model, port, options);
  const child = spawn(serverBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then its last output lines have been read too.
    child.once('close', (code, exitSignal) => resolve({ code, signal: exitSignal })),
  );
  try {
    await spawned;
  } catch (error) {
    throw new Error(`could not start llama-server ${serverBin}: ${(error as Error).message}`);
  }
  trackChild(child);
  const tail = followOutput(child, onLog, TAIL_LINES);
  const stop = stopper(child, exited);

  const ready = new AbortController();
  const timer = setTimeout(() => ready.abort(new Error(`not healthy after ${readyTimeoutMs} ms`)), readyTimeoutMs);
  const onAbort = (): void => ready.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  void exited.then(({ code, signal: how }) => ready.abort(new Error(`exited (${how ?? `code ${code}`}) before it was healthy`)));
  try {
    await waitUntilHealthy(url, ready.signal);
  } catch (error) {
    await stop();
    if (signal?.aborted) throw signal.reason;
    const reason = ready.signal.reason instanceof Error ? ready.signal.reason.message : String(error);
    const output = tail.join('\n');
    throw new StartError(
      `llama-server on ${url} ${reason}. Command: ${serverBin} ${args.join(' ')}\nLast output:\n${output}`,
      /address already in use|couldn't bind/i.test(output),
    );
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.addEventListener('abort', () => void stop(), { once: true });
  return { baseURL: `${url}/v1`, url, port, pid: child.pid ?? 0, alias, exited, stop };
}

function stopper(child: ChildProcess, exited: Promise<unknown>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const running = child.exitCode === null && child.signalCode === null;
      const pid = child.pid ?? 0;
      if (running) killQuietly(pid, 'SIGTERM');
      const kill = running ? setTimeout(() => killQuietly(pid, 'SIGKILL'), STOP_GRACE_MS) : undefined;
      await exited; // also when it had already exited: its output is then fully read
      clearTimeout(kill);
    })();
    return stopping;
  };
}
