/**
 * One supervised child process that serves (the fake, the agent, llama-server). Each is spawned in its own
 * process group (`detached`), so a Ctrl-C in the terminal reaches only its parent (the runner, a test), which
 * then stops the children itself, in order, and a child's own children (if any) go with it: stopping kills the
 * whole group. `trackChild` (processes.ts) is the second lock: it kills the group if the parent exits or dies
 * without stopping it, even by SIGKILL (a watchdog on a pipe).
 *
 * Output is kept as a short tail for error messages, with secrets masked before anything else sees it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { followOutput } from './output-tail.js';
import { killQuietly, trackChild } from './processes.js';
import { StartError } from './start-error.js';

export interface ChildSpec {
  /** How people call it in messages: "the agent", "the fake OpenRouter". */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Masks secrets in every output line (the agent's key). */
  redact?: (line: string) => string;
  /** Called with every output line (secrets masked), from the first. */
  onLine?: (line: string) => void;
  /** Lines of output kept for error messages. Default 40. */
  tailLines?: number;
  /** SIGTERM first, SIGKILL after this long. Default 3 s: every child here shuts down in well under a second. */
  stopGraceMs?: number;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TAIL_LINES = 40;
const STOP_GRACE_MS = 3_000;

export class Child {
  readonly pid: number;
  /** Resolves when the process has exited and its output is read, however that happened. */
  readonly exited: Promise<ChildExit>;
  private readonly tail: string[];
  private readonly listeners = new Set<(line: string) => void>();
  private exit: ChildExit | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly spec: ChildSpec,
    proc: ChildProcess,
  ) {
    this.pid = proc.pid ?? 0;
    this.exited = new Promise((resolve) =>
      proc.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    const tell = (line: string) => {
      spec.onLine?.(line);
      for (const listener of this.listeners) listener(line);
    };
    this.tail = followOutput(proc, tell, { keep: spec.tailLines ?? TAIL_LINES, ...(spec.redact && { redact: spec.redact }) });
  }

  /** Spawns the child in its own process group; rejects when it cannot be started at all. */
  static async spawn(spec: ChildSpec): Promise<Child> {
    const proc = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', (error) => reject(new StartError(`could not start ${spec.name} ${spec.command}: ${error.message}`)));
    });
    trackChild(proc, { group: true });
    return new Child(spec, proc);
  }

  get name(): string {
    return this.spec.name;
  }

  /** True once the process has exited. */
  get done(): boolean {
    return this.exit !== undefined;
  }

  /** The last lines it printed, secrets masked. */
  output(): string[] {
    return [...this.tail];
  }

  /** Calls `listener` for every line printed from now on. Returns a function that stops it. */
  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the first value `pick` returns for a printed line (e.g. the URL a server listens on).
   * Rejects when the child exits first, when `timeoutMs` passes, or when `signal` aborts.
   */
  waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (fn: () => void) => {
        stop();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const stop = this.onLine((line) => {
        const value = pick(line);
        if (value !== undefined) finish(() => resolve(value));
      });
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.name} was not ready after ${timeoutMs / 1000} s`))), timeoutMs);
      const onAbort = () => finish(() => reject(signal?.reason));
      // An abort that came before this wait fires no event (Ctrl-C while the stack was still being set up).
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.exited.then((exit) => finish(() => reject(new Error(`${this.name} exited ${describeExit(exit)} before it was ready`))));
    });
  }

  /** Stops the process group: SIGTERM, then SIGKILL after a grace period. Resolves when the child is gone. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.done) return;
      killQuietly(this.pid, 'SIGTERM', true);
      const kill = setTimeout(() => killQuietly(this.pid, 'SIGKILL', true), this.spec.stopGraceMs ?? STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
      // Anything the child left behind in its group goes too.
      killQuietly(this.pid, 'SIGKILL', true);
    })();
    return this.stopping;
  }
}

/** "with code 1", "on SIGKILL". */
export function describeExit(exit: ChildExit): string {
  return exit.signal ? `on ${exit.signal}` : `with code ${exit.code}`;
}
