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
  /**
   * Resolves when the running server exits without `kill()` or `stop()` asking (a crash, a kill from outside), with
   * how it exited ("with code 1", "on SIGSEGV"); a rehearsal whose Redis died on its own is not the one it scripted.
   */
  readonly died: Promise<string>;
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
  const dir = mkdtempSync(join(tmpdir(), 'holdline-redis-'));
  const first = await firstLaunch(bin, dir).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const port = first.port;
  let child = first.child;
  let asked = false;
  let died: (how: string) => void = () => {};
  const diedPromise = new Promise<string>((resolve) => (died = resolve));
  const watch = (c: ChildProcess) =>
    c.once('exit', (code, signal) => {
      if (!asked) died(signal ? `on ${signal}` : `with code ${code}`);
    });
  watch(child);
  const gone = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));
  const end = async (signal: NodeJS.Signals) => {
    asked = true;
    child.kill(signal);
    await gone(child);
  };
  return {
    died: diedPromise,
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
      asked = false;
      watch(child);
    },
    async stop() {
      child.kill('SIGCONT');
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Ports tried at the first start: a free port found is closed again before redis-server binds it, so another process may take it meanwhile. */
const START_TRIES = 3;

async function firstLaunch(bin: string, dir: string): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await closedPort();
    try {
      return { port, child: await launch(bin, port, dir) };
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= START_TRIES) throw error;
    }
  }
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
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
      child.once('exit', (code, signal) => {
        // Its banner comes first: the reason is the line that says the port is taken, named on its own.
        if (/Address already in use/.test(output)) reject(new PortTaken(port, output));
        else reject(new Error(`redis-server exited (${code ?? signal}) before answering PING:\n${output}`));
      });
      // Redis says when it accepts connections; one PING then proves it answers.
      const onData = () => {
        if (!output.includes('Ready to accept connections')) return;
        child.stdout?.off('data', onData);
        ping(port).then(resolve, reject);
      };
      child.stdout?.on('data', onData);
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    // On every way out: a pending timer would keep a test's process alive for the whole timeout.
    clearTimeout(timer);
  }
  return child;
}

/** redis-server could not bind its port: another process took it after it was found free. */
export class PortTaken extends Error {
  constructor(port: number, output: string) {
    super(`redis-server could not listen on 127.0.0.1:${port}: another process took the port (Address already in use). Its output:\n${output}`);
    this.name = 'PortTaken';
  }
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
