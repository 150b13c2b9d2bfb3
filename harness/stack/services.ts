/**
 * How each service of the process stack is started and known to be ready: the fake prints its base URL,
 * the agent logs its URL, llama-server answers /health. Each starts with `node --import tsx` (one process,
 * no tsx supervisor in between) or its own binary, in its own process group, through the process kit
 * (tools/kit/service.ts); llama-server through tools/llama's startLlamaServer, the one way it is spawned.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOCK_TOKEN_ENV } from '../../contract/time/shared-clock.js';
import { healthy, startService, type Started } from '../../tools/kit/service.js';
import { sourceBundlePath } from '../../tools/llama/build/source.js';
import { ensureLlama } from '../../tools/llama/ensure.js';
import { startLlamaServer } from '../../tools/llama/server/start.js';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Generous: the first start on a busy 2-core machine compiles TypeScript on the fly. */
const READY_TIMEOUT_MS = 90_000;

export type { Started };

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

/** The runner's virtual clock a child joins: its address, the run's secret, and the child's name on it. */
export interface ClockJoin {
  address: string;
  token: string;
  name: string;
}

/** `--speed N`, or `--clock ADDRESS` (and the secret in the environment, never on the command line). */
function timeArgs(speed: number, clock: ClockJoin | undefined): string[] {
  return clock ? ['--clock', clock.address] : ['--speed', String(speed)];
}

function clockEnv(env: NodeJS.ProcessEnv, clock: ClockJoin | undefined): NodeJS.ProcessEnv {
  return clock ? { ...env, [CLOCK_TOKEN_ENV]: clock.token } : env;
}

export function startFakeProcess(scenarioFile: string, speed: number, progress: (line: string) => void, signal?: AbortSignal, clock?: ClockJoin): Promise<Started> {
  const args = ['--scenario', scenarioFile, '--port', '0', '--host', '127.0.0.1', ...timeArgs(speed, clock)];
  const spec = { name: 'the fake OpenRouter', ...nodeEntry('fakes/openrouter/cli.ts', args), cwd: REPO_ROOT, env: clockEnv(process.env, clock) };
  return startService(
    spec,
    async (child) => {
      const baseURL = await child.waitForLine((line) => /^OPENROUTER_BASE_URL=(\S+)$/.exec(line)?.[1], READY_TIMEOUT_MS, signal);
      const url = baseURL.replace(/\/api\/v1\/?$/, '');
      await healthy(child, url, `${url}/__fake/health`, { timeoutMs: READY_TIMEOUT_MS, ...(signal && { signal }) });
      return url;
    },
    { progress },
  );
}

export function startAgentProcess(
  env: NodeJS.ProcessEnv,
  speed: number,
  redact: (line: string) => string,
  progress: (line: string) => void,
  signal?: AbortSignal,
  agentModule?: string,
  /** How the process is named in progress lines and failures ("the agent of call 3" in a fleet). */
  name = 'the agent',
  /** The runner's virtual clock to join, and this process's name on it (`agent`, `agent-3` in a fleet). */
  clock?: ClockJoin,
): Promise<Started> {
  const args = ['--rehearsal', '--port', '0', '--host', '127.0.0.1', ...timeArgs(speed, clock), ...(clock ? ['--clock-name', clock.name] : []), ...(agentModule ? ['--agent', agentModule] : [])];
  const spec = { name, ...nodeEntry('src/main.ts', args), cwd: REPO_ROOT, env: clockEnv(env, clock), redact };
  return startService(
    spec,
    async (child) => {
      const url = await child.waitForLine((line) => listeningUrl(line), READY_TIMEOUT_MS, signal);
      await healthy(child, url, `${url}/healthz`, { timeoutMs: READY_TIMEOUT_MS, ...(signal && { signal }) });
      return url;
    },
    { progress },
  );
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
 * llama-server with the tiny model and the grammar that makes it say FALLBACK_SENTENCE: tools/llama's own
 * startLlamaServer, in its own process group like every other service.
 */
export async function startLlamaProcess(progress: (line: string) => void, signal?: AbortSignal): Promise<LocalServer> {
  // The published holdline package carries no llama.cpp source (node-llama-cpp is the repository's, for tests).
  if (!existsSync(sourceBundlePath())) {
    throw new Error(
      "this scenario needs llama-server (agent.local: true), and this installation has no llama.cpp source to build it from: the holdline package does not carry it. Rehearse it from a clone of the repository (npm ci && npm run llama:build), or pick a scenario with agent.local: false",
    );
  }
  const { serverBin, modelPath } = await ensureLlama({ onProgress: (p) => progress(`llama: ${p.message}`), ...(signal && { signal }) });
  const server = await startLlamaServer({ serverBin, model: modelPath, cwd: REPO_ROOT, readyTimeoutMs: READY_TIMEOUT_MS, progress, ...(signal && { signal }) });
  return { child: server.child, url: server.url, baseURL: server.baseURL, model: server.alias };
}
