/**
 * How each service of the process stack is started and known to be ready: the fake prints its base URL,
 * the agent logs its URL, llama-server answers /health. Each starts with `node --import tsx` (one process,
 * no tsx supervisor in between) or its own binary, in its own process group.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceBundlePath } from '../../tools/llama/build/source.js';
import { ensureLlama } from '../../tools/llama/ensure.js';
import { freeLoopbackPort } from '../../tools/llama/server/free-port.js';
import { DEFAULT_ALIAS, serverArgs } from '../../tools/llama/server/start.js';
import { Child, describeExit, type ChildSpec } from './child.js';
import { waitForHealth } from './health.js';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Generous: the first start on a busy 2-core machine compiles TypeScript on the fly. */
const READY_TIMEOUT_MS = 90_000;

export interface Started {
  child: Child;
  /** Root URL of the service. */
  url: string;
}

/** tsx's loader, found from here: in the repository and in an installed package alike. */
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * `node --import tsx <entry>`: the TypeScript source in the repository, its compiled `.js` in the installed
 * package (tsx stays loaded there so a rehearsed agent module may be TypeScript).
 */
function nodeEntry(entry: string, args: string[]): { command: string; args: string[] } {
  const source = resolve(REPO_ROOT, entry);
  const file = existsSync(source) ? source : source.replace(/\.ts$/, '.js');
  return { command: process.execPath, args: ['--import', TSX_LOADER, file, ...args] };
}

/** Resolves once `child` is healthy at `healthUrl`; rejects (with its last output) if it exits first. */
async function healthy(child: Child, healthUrl: string, signal?: AbortSignal): Promise<void> {
  const gone = new AbortController();
  const onAbort = () => gone.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  void child.exited.then((exit) => gone.abort(new Error(`${child.name} exited ${describeExit(exit)} before it was healthy`)));
  try {
    await waitForHealth(healthUrl, child.name, READY_TIMEOUT_MS, gone.signal);
  } catch (error) {
    throw gone.signal.aborted && gone.signal.reason instanceof Error ? gone.signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** How often a slow start says it is still waiting. */
const STILL_WAITING_EVERY_MS = 10_000;

/**
 * Spawns a service and resolves once `ready` says where it answers. While it waits, says so every 10 s; on any
 * failure the child is stopped and the error carries its last output.
 */
async function startService(
  spec: ChildSpec,
  ready: (child: Child) => Promise<string>,
  progress: (line: string) => void,
): Promise<Started> {
  const child = await Child.spawn(spec);
  const started = Date.now();
  const ticker = setInterval(() => progress(`waiting for ${child.name} to be ready (${Math.round((Date.now() - started) / 1000)} s)`), STILL_WAITING_EVERY_MS);
  try {
    return { child, url: await ready(child) };
  } catch (error) {
    await child.stop();
    throw withOutput(child, error);
  } finally {
    clearInterval(ticker);
  }
}

export function startFakeProcess(scenarioFile: string, speed: number, progress: (line: string) => void, signal?: AbortSignal): Promise<Started> {
  const args = ['--scenario', scenarioFile, '--port', '0', '--host', '127.0.0.1', '--speed', String(speed)];
  const spec = { name: 'the fake OpenRouter', ...nodeEntry('fakes/openrouter/cli.ts', args), cwd: REPO_ROOT, env: process.env };
  return startService(
    spec,
    async (child) => {
      const baseURL = await child.waitForLine((line) => /^OPENROUTER_BASE_URL=(\S+)$/.exec(line)?.[1], READY_TIMEOUT_MS, signal);
      const url = baseURL.replace(/\/api\/v1\/?$/, '');
      await healthy(child, `${url}/__fake/health`, signal);
      return url;
    },
    progress,
  );
}

export function startAgentProcess(
  env: NodeJS.ProcessEnv,
  speed: number,
  redact: (line: string) => string,
  progress: (line: string) => void,
  signal?: AbortSignal,
  agentModule?: string,
): Promise<Started> {
  const args = ['--rehearsal', '--port', '0', '--host', '127.0.0.1', '--speed', String(speed), ...(agentModule ? ['--agent', agentModule] : [])];
  const spec = { name: 'the agent', ...nodeEntry('src/main.ts', args), cwd: REPO_ROOT, env, redact };
  return startService(
    spec,
    async (child) => {
      const url = await child.waitForLine((line) => listeningUrl(line), READY_TIMEOUT_MS, signal);
      await healthy(child, `${url}/healthz`, signal);
      return url;
    },
    progress,
  );
}

/** The start failure with the child's last output (secrets masked), which usually says why. */
function withOutput(child: Child, error: unknown): unknown {
  const output = child.output();
  if (!(error instanceof Error) || error.name === 'AbortError' || output.length === 0) return error;
  return new Error(`${error.message}\n${child.name}'s last output:\n${output.map((line) => `  | ${line}`).join('\n')}`);
}

/** The `url` of the agent's "rehearsal agent listening" log line, if this is that line. */
export function listeningUrl(line: string): string | undefined {
  if (!line.includes('rehearsal agent listening')) return undefined;
  try {
    const url = (JSON.parse(line) as { url?: unknown }).url;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

export interface LocalServer extends Started {
  baseURL: string;
  model: string;
}

/**
 * llama-server with the tiny model and the grammar that makes it say FALLBACK_SENTENCE (tools/llama's own
 * command line), spawned here in its own process group like every other service.
 */
export async function startLlamaProcess(progress: (line: string) => void, signal?: AbortSignal): Promise<LocalServer> {
  // The published holdline package carries no llama.cpp source (node-llama-cpp is the repository's, for tests).
  if (!existsSync(sourceBundlePath())) {
    throw new Error(
      "this scenario needs llama-server (agent.local: true), and this installation has no llama.cpp source to build it from: the holdline package does not carry it. Rehearse it from a clone of the repository (npm ci && npm run llama:build), or pick a scenario with agent.local: false",
    );
  }
  const { serverBin, modelPath } = await ensureLlama({ onProgress: (p) => progress(`llama: ${p.message}`), ...(signal && { signal }) });
  const port = await freeLoopbackPort();
  const args = serverArgs(modelPath, port);
  const url = `http://127.0.0.1:${port}`;
  const spec = { name: 'llama-server', command: serverBin, args, cwd: REPO_ROOT, env: process.env };
  const ready = async (child: Child) => {
    await healthy(child, `${url}/health`, signal);
    return url;
  };
  const started = await startService(spec, ready, progress);
  return { ...started, baseURL: `${url}/v1`, model: DEFAULT_ALIAS };
}
