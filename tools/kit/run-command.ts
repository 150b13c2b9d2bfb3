/**
 * Running one command to its end (git and cmake for a build; apt-get, docker, iptables and debootstrap for the
 * container tooling): capture what it prints, or stream it line by line as progress, and keep its last lines
 * for a clear error that names the command. A build's command runs in its own process group (`group: true`),
 * killed whole (cmake, make, the compilers) on abort, on timeout and, through trackChild, when this process
 * exits or is interrupted, even by SIGKILL.
 */
import { spawn } from 'node:child_process';
import { followOutput } from './output-tail.js';
import { killQuietly, trackChild } from './processes.js';

export interface RunOptions {
  cwd?: string;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin, then closed. */
  input?: string | Buffer | NodeJS.ReadableStream;
  /** Called with every line the command prints (stdout and stderr), e.g. to show a long step's progress. */
  onLine?: (line: string) => void;
  /** Killed (SIGKILL) after this long. */
  timeoutMs?: number;
  /** Aborting kills the command (SIGKILL); `run` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Its own process group, killed whole, and never outliving this process. For builds. */
  group?: boolean;
  /** Lines of output kept for the error message. Default 40. */
  tailLines?: number;
}

export interface ExecResult {
  /** Exit code; null when it could not run, or was killed. */
  code: number | null;
  /** The signal that killed it, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  /** What it printed on stderr, then why it could not run, if it could not. */
  stderr: string;
  /** Its last lines (stdout and stderr as they came). */
  tail: string[];
  /** Why it could not run at all (ENOENT...). */
  error?: Error;
  /** True when `timeoutMs` passed and it was killed. */
  timedOut: boolean;
}

/** Runs a command to its end; never rejects (see `run` for that). */
export function exec(command: string, args: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
  const { cwd, env = process.env, input, onLine, timeoutMs, signal, group = false, tailLines = 40 } = options;
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, detached: group, stdio: ['pipe', 'pipe', 'pipe'] });
    if (group) trackChild(child, { group: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const tail = followOutput(child, onLine, { keep: tailLines });
    const kill = (): void => {
      if (child.pid) killQuietly(child.pid, 'SIGKILL', group);
    };
    const timer = timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, timeoutMs)
      : undefined;
    signal?.addEventListener('abort', kill, { once: true });
    const done = (result: Omit<ExecResult, 'stdout' | 'stderr' | 'tail' | 'timedOut'>, extra = ''): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      resolve({ ...result, stdout, stderr: stderr + extra, tail, timedOut });
    };
    child.once('error', (error) => done({ code: null, signal: null, error }, error.message));
    child.once('close', (code, exitSignal) => done({ code, signal: exitSignal }));
    child.stdin.on('error', () => {}); // a command that exits without reading its input is not an error here
    if (signal?.aborted) kill();
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

/** Runs a command and resolves with its stdout; rejects with its last output when it fails. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  options.signal?.throwIfAborted();
  const result = await exec(command, args, options);
  if (options.signal?.aborted) throw options.signal.reason;
  if (result.code === 0) return result.stdout;
  throw new Error(`\`${command} ${args.join(' ')}\` ${failure(result, options.timeoutMs)}. Last output:\n${result.tail.join('\n')}`);
}

function failure(result: ExecResult, timeoutMs: number | undefined): string {
  if (result.error) return `could not run (${result.error.message})`;
  if (result.timedOut) return `was killed after ${(timeoutMs ?? 0) / 1000} s`;
  if (result.signal) return `was killed by ${result.signal}`;
  return `exited with code ${result.code}`;
}

/** Resolves with the command's stdout, or undefined when it cannot run (not installed) or fails. */
export async function probe(command: string, args: readonly string[], options: RunOptions = {}): Promise<string | undefined> {
  const result = await exec(command, args, options);
  return result.code === 0 ? result.stdout : undefined;
}

/** True when `command` is on PATH. */
export async function have(command: string): Promise<boolean> {
  return (await exec('sh', ['-c', `command -v ${command}`])).code === 0;
}
