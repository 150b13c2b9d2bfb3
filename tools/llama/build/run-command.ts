/**
 * Runs one build command (git, cmake) in its own process group, streaming its output line by line and
 * keeping the last lines for the error message. The whole group (cmake, make, the compilers) is killed on
 * abort and, through trackChild, when this process exits or is interrupted.
 */
import { spawn } from 'node:child_process';
import { followOutput } from '../output-tail.js';
import { killQuietly, trackChild } from '../processes.js';

export interface RunOptions {
  cwd?: string;
  /** Called with every line the command prints (stdout and stderr). */
  onLine?: (line: string) => void;
  /** Aborting kills the command's whole process group and rejects. */
  signal?: AbortSignal;
  /** Lines of output kept for the error message. Default 40. */
  tailLines?: number;
}

/** Resolves when the command exits 0; rejects with its last output lines otherwise. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<void> {
  const { cwd, onLine, signal, tailLines = 40 } = options;
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    trackChild(child, { group: true });
    const tail = followOutput(child, onLine, tailLines);
    const onAbort = (): void => {
      if (child.pid) killQuietly(child.pid, 'SIGKILL', true);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(signal.reason);
      if (code === 0) return resolve();
      const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
      reject(new Error(`\`${command} ${args.join(' ')}\` ${how}. Last output:\n${tail.join('\n')}`));
    });
  });
}

/** Resolves with the command's stdout, or undefined when it cannot run (not installed) or fails. */
export function probe(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => resolve(code === 0 ? out : undefined));
  });
}
