/** The runner's command line as a child process, for tests that signal it, crash its services or read its output. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ResultJson } from '../../harness/result.js';
import { killQuietly } from '../../tools/kit/processes.js';

const ROOT = join(import.meta.dirname, '../..');
/** Runners still running, so a test that times out does not leave one (and its services) behind. */
const running = new Set<number>();

export interface RunnerProcess {
  pid: number;
  /** Resolves with the first stderr line matching `pattern`; rejects if the runner exits first. */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function startRunner(args: string[]): RunnerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'harness/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) running.add(child.pid);
  child.once('exit', () => running.delete(child.pid ?? 0));
  let stdout = '';
  let stderr = '';
  const waiters = new Set<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }>();
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters) {
      const match = waiter.pattern.exec(stderr);
      if (match) {
        waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    pid: child.pid ?? 0,
    exited,
    waitForStderr: (pattern) =>
      new Promise((resolve, reject) => {
        const match = pattern.exec(stderr);
        if (match) return resolve(match);
        waiters.add({ pattern, resolve });
        void exited.then(({ code }) => reject(new Error(`the runner exited (code ${code}) before printing ${pattern}:\n${stderr}`)));
      }),
  };
}

/** Interrupts every runner still running: each stops its own services, as on Ctrl-C. */
export function interruptRunners(): void {
  for (const pid of running) killQuietly(pid, 'SIGINT');
}

/** "· pids: llama-server 12, the fake OpenRouter 13, the agent 14" -> { 'llama-server': 12, ... } */
export function parsePids(line: string): Record<string, number> {
  return Object.fromEntries(
    line
      .replace(/^.*pids: /, '')
      .split(', ')
      .map((part) => {
        const at = part.lastIndexOf(' ');
        return [part.slice(0, at), Number(part.slice(at + 1))];
      }),
  );
}

/** Runs the runner with `--json` and parses its one object (the last line of stdout), or says what came instead. */
export async function runnerJson(args: string[]): Promise<{ code: number | null; json: ResultJson; stderr: string }> {
  const { code, stdout, stderr } = await startRunner([...args, '--json']).exited;
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { code, json: JSON.parse(line) as ResultJson, stderr };
  } catch {
    throw new Error(`no JSON on stdout (exit ${code}):\n${stdout}\n${stderr}`);
  }
}
