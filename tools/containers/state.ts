/**
 * What `npm run containers:prepare` started, so that `containers:stop` stops exactly that, and so that the
 * runner and the tests find the engine without anyone exporting variables:
 *
 *   $HOLDLINE_CACHE_DIR (default ~/.cache/holdline)/containers/
 *     engine.json          the engine's address and what was started (dockerd, containerd, iptables, links)
 *     docker-config/       a private DOCKER_CONFIG: cli-plugins/docker-compose and docker-buildx from Debian
 *     docker/              dockerd's data root (images stay cached between runs, like the llama-server build)
 *     debootstrap/         the base image's root file system while it is made
 *   /tmp/holdline-docker/  dockerd's socket, exec root, pid file and log (short paths: sockets have a length limit)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../llama/paths.js';
import { isAlive } from '../kit/processes.js';

export const RUN_DIR = '/tmp/holdline-docker';

export function containersDir(root = cacheRoot()): string {
  return join(root, 'containers');
}

export const paths = {
  stateFile: () => join(containersDir(), 'engine.json'),
  dockerConfig: () => join(containersDir(), 'docker-config'),
  dataRoot: () => join(containersDir(), 'docker'),
  socket: join(RUN_DIR, 'docker.sock'),
  log: join(RUN_DIR, 'dockerd.log'),
};

/** Everything prepare records. Only `started` is stopped by stop; the rest is where to reach the engine. */
export interface EngineState {
  /** DOCKER_HOST for the engine prepare found or started. */
  dockerHost?: string;
  /** DOCKER_CONFIG holding the Compose v2 and buildx plugins prepare installed. */
  dockerConfig?: string;
  /** Set when Testcontainers' reaper image (Ryuk) cannot be had: tests then remove their own containers. */
  ryukDisabled?: boolean;
  /** What prepare started, to be undone by stop. */
  started?: {
    dockerdPid: number;
    containerdPid?: number;
    /** `iptables-save` before dockerd started: every chain and rule not in it was added by dockerd. */
    iptablesBefore: string;
    /** net.ipv4.ip_forward before dockerd turned it on. */
    ipForwardBefore?: string;
    /** Network links before dockerd started: every docker0, br-… or veth… link not in it was made by dockerd. */
    linksBefore: string[];
    /** The boot it was started in (/proc/sys/kernel/random/boot_id): the snapshots above describe that boot only. */
    bootId?: string;
  };
}

/** This boot's id; undefined where the kernel does not say (not Linux). */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * May `stop` undo the network changes `started` recorded (iptables chains, ip_forward, docker0/br-/veth links)? Not
 * after a reboot: the record survives it (~/.cache), the engine it describes does not, and what exists now belongs to
 * this boot (a system dockerd started at boot makes the same docker0 and chains: removing them would break it). A
 * record from before boot ids were kept, or a kernel that gives none (`bootId` null), is undone as it always was.
 */
export function undoesNetwork(started: NonNullable<EngineState['started']>, bootId: string | null = currentBootId() ?? null): boolean {
  return started.bootId === undefined || bootId === null || started.bootId === bootId;
}

export function readState(): EngineState | undefined {
  try {
    return JSON.parse(readFileSync(paths.stateFile(), 'utf8')) as EngineState;
  } catch {
    return undefined;
  }
}

export function writeState(state: EngineState): void {
  mkdirSync(containersDir(), { recursive: true });
  writeFileSync(paths.stateFile(), `${JSON.stringify(state, null, 2)}\n`);
}

export function clearState(): void {
  rmSync(paths.stateFile(), { force: true });
}

/**
 * The variables that reach the engine prepare recorded (DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED; none when it
 * recorded nothing or the dockerd it started is gone), and DOCKER_CONFIG when prepare installed the plugins there.
 */
export function engineEnv(state = readState()): Record<string, string> {
  const env: Record<string, string> = {};
  // The plugins need no engine: `docker compose config` works with them whether or not dockerd runs.
  const dockerConfig = state?.dockerConfig ?? paths.dockerConfig();
  if (existsSync(join(dockerConfig, 'cli-plugins', 'docker-compose'))) env.DOCKER_CONFIG = dockerConfig;
  if (!state || (state.started && !isAlive(state.started.dockerdPid))) return env;
  if (state.dockerHost) env.DOCKER_HOST = state.dockerHost;
  if (state.ryukDisabled) env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  return env;
}

/**
 * Puts engineEnv() into process.env where the caller has not set the variable, so Testcontainers and
 * `docker compose` reach the engine prepare started. Returns what it set.
 */
export function useRecordedEngine(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const set: Record<string, string> = {};
  for (const [key, value] of Object.entries(engineEnv())) {
    if (env[key] !== undefined) continue;
    env[key] = value;
    set[key] = value;
  }
  return set;
}
