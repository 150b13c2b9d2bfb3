/**
 * A real Redis for tests: Debian's `redis-server` (`REDIS_SERVER_BIN` overrides the path) on a free loopback port,
 * no persistence (`--save "" --appendonly no`), waited for until it answers PING, and stopped with its test. A killed
 * server can be started again on the same port (a Redis restart, empty as after a crash without persistence).
 *
 * A missing binary is an error that says how to install it, never a silent skip: tests that prove the fleet's shared
 * cooldowns must not pass by not running. `npm test`'s global setup (test/setup/redis.ts) installs it as root on Debian.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackChild } from '../../tools/kit/processes.js';
import { closedPort } from './ports.js';

const READY_TIMEOUT_MS = 10_000;

export interface RedisServer {
  port: number;
  /** The running server's pid (a new one after `restart()`). */
  readonly pid: number | undefined;
  url: string;
  /** SIGKILL, as a crash: resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that holds connections open but answers nothing (a stalled server). */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (empty), resolving once it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Where redis-server is looked for: `REDIS_SERVER_BIN`, else Debian's path. */
export function configuredRedisBin(): string {
  return process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
}

export function redisServerBin(): string {
  const bin = configuredRedisBin();
  if (!existsSync(bin)) {
    throw new Error(
      `redis-server not found at ${bin}: these tests need a real Redis. Install it (Debian: apt-get install -y --no-install-recommends redis-server; npm test does it as root on Debian) or set REDIS_SERVER_BIN`,
    );
  }
  return bin;
}

export async function startRedisServer(): Promise<RedisServer> {
  const bin = redisServerBin();
  const port = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'holdline-redis-'));
  let child = await launch(bin, port, dir);
  const gone = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));
  const end = async (signal: NodeJS.Signals) => {
    child.kill(signal);
    await gone(child);
  };
  return {
    port,
    get pid() {
      return child.pid;
    },
    url: `redis://127.0.0.1:${port}`,
    kill: () => end('SIGKILL'),
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async restart() {
      child = await launch(bin, port, dir);
    },
    async stop() {
      child.kill('SIGCONT');
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(bin: string, port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', ''];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Killed if the test process exits or dies (even by SIGKILL: a watchdog) without stopping it: no orphans.
  trackChild(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}) before answering PING:\n${output}`)));
      // Redis says when it accepts connections; one PING then proves it answers.
      const onData = () => {
        if (!output.includes('Ready to accept connections')) return;
        child.stdout?.off('data', onData);
        ping(port).then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: Error) => reject(error),
        );
      };
      child.stdout?.on('data', onData);
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      if (data.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`redis-server answered PING with ${JSON.stringify(data.toString().slice(0, 80))}`));
    });
    socket.once('error', reject);
  });
}
