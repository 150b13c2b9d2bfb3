/**
 * Running the system's commands (apt-get, docker, iptables, debootstrap) from the container tooling: capture
 * what they print, or stream it as progress, with a clear error naming the command and its last output.
 */
import { spawn } from 'node:child_process';
import { followOutput } from '../llama/output-tail.js';

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's stdin, then closed. */
  input?: string | Buffer | NodeJS.ReadableStream;
  /** Each line printed (stdout and stderr), e.g. to show a long step's progress. */
  onLine?: (line: string) => void;
  /** Killed (SIGKILL) after this long. */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects for a non-zero exit (see `run` for that). */
export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (options.onLine) followOutput(child, options.onLine);
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + error.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    const { input } = options;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

/** Runs a command and resolves with its stdout; rejects with its last output when it fails. */
export async function run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  const result = await exec(command, args, options);
  if (result.code === 0) return result.stdout;
  const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-15).join('\n');
  throw new Error(`\`${command} ${args.join(' ')}\` ${result.code === null ? 'could not run or timed out' : `exited with code ${result.code}`}:\n${tail}`);
}

/** True when `command` is on PATH. */
export async function have(command: string): Promise<boolean> {
  return (await exec('sh', ['-c', `command -v ${command}`])).code === 0;
}
