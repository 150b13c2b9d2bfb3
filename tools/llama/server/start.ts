/**
 * Starts a real llama-server for the harness and tests: the tiny model, one thread, a 1024 token context,
 * one slot, bound to 127.0.0.1, and a grammar that makes every completion the same sentence. Resolves once
 * /health is ok. The server is stopped by stop(), by the abort signal, and when this process exits or is
 * interrupted (see tools/kit/processes.ts), so no llama-server outlives its parent.
 *
 * This is the one way llama-server is spawned: tests, benchmarks and the scenario runner's process stack all
 * start it here, as a service of the process kit (tools/kit/service.ts), in its own process group.
 */
import type { Child } from '../../kit/child.js';
import { freeLoopbackPort } from '../../kit/free-port.js';
import { answers } from '../../kit/health.js';
import { healthy, startService } from '../../kit/service.js';
import { StartError } from '../../kit/start-error.js';
import { findServerBin } from '../ensure.js';
import { ensureTinyModel } from '../model.js';
import { FALLBACK_SENTENCE, fixedSentenceGrammar } from './grammar.js';

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
  /** A line every 10 s while it is not healthy yet ("waiting for llama-server to be ready (10 s)"). */
  progress?: (line: string) => void;
  /** Working directory of the server. Default: this process's. */
  cwd?: string;
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
  /** The supervised process (its output tail, its exit), for a supervisor that watches several services. */
  child: Child;
}

const TAIL_LINES = 30;
const STOP_GRACE_MS = 5000;
const BIND_RETRIES = 3;
/** What llama-server prints when its port was taken between our check and its bind. */
const PORT_TAKEN = /address already in use|couldn't bind/i;

/** One look at /health: true when the server is up and has its model loaded (503 while it loads). */
export function isHealthy(url: string, timeoutMs = 2000): Promise<boolean> {
  return answers(`${url}/health`, { timeoutMs, accept: statusOk });
}

async function statusOk(response: Response): Promise<boolean> {
  const body = (await response.json()) as { status?: unknown };
  return body.status === 'ok';
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
      if (options.signal?.aborted) throw options.signal.reason;
      // A free port can be taken between our check and the server's bind; only then is retrying right.
      const portTaken = error instanceof StartError && error.output.some((line) => PORT_TAKEN.test(line));
      const retry = portTaken && options.port === undefined && attempt < BIND_RETRIES;
      if (!retry) throw error;
    }
  }
}

/** llama-server's command line for the tiny model: loopback, one thread, the grammar. */
export function serverArgs(model: string, port: number, options: StartLlamaServerOptions = {}): string[] {
  const { grammarSentence = FALLBACK_SENTENCE, alias = DEFAULT_ALIAS, threads = 1, ctx = 1024, extraArgs = [] } = options;
  const args = ['-m', model, '--host', '127.0.0.1', '--port', String(port), '--alias', alias];
  args.push('-t', String(threads), '-tb', String(threads), '-c', String(ctx), '-np', '1');
  if (grammarSentence !== null) args.push('--grammar', fixedSentenceGrammar(grammarSentence));
  return [...args, ...extraArgs];
}

async function startOnce(serverBin: string, model: string, port: number, options: StartLlamaServerOptions): Promise<LlamaServer> {
  const { readyTimeoutMs = 60_000, signal, onLog, progress, cwd = process.cwd(), alias = DEFAULT_ALIAS } = options;
  signal?.throwIfAborted();
  const url = `http://127.0.0.1:${port}`;
  const spec = {
    name: 'llama-server',
    command: serverBin,
    args: serverArgs(model, port, options),
    cwd,
    env: process.env,
    tailLines: TAIL_LINES,
    stopGraceMs: STOP_GRACE_MS,
    ...(onLog && { onLine: onLog }),
  };
  const ready = async (child: Child): Promise<string> => {
    await healthy(child, url, `${url}/health`, { timeoutMs: readyTimeoutMs, pollMs: 25, accept: statusOk, ...(signal && { signal }) });
    return url;
  };
  const { child } = await startService(spec, ready, progress ? { progress } : {});
  const stop = (): Promise<void> => child.stop();
  signal?.addEventListener('abort', () => void stop(), { once: true });
  return { baseURL: `${url}/v1`, url, port, pid: child.pid, alias, exited: child.exited, stop, child };
}
