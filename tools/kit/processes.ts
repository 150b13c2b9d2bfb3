/**
 * Children that must not outlive this process: llama-server and the compilers of a build.
 *
 * Tracked children are killed when this process exits (normally or by an uncaught error) and on SIGINT,
 * SIGTERM and SIGHUP. The signal handlers are installed only while something is tracked, and when they are
 * the only handlers for that signal they re-raise it after the cleanup, so the process still dies of it as it
 * would have. For a parent killed by SIGKILL (no handler runs) each child also gets a watchdog: a tiny `sh`
 * that blocks reading a pipe from this process and kills the child when the pipe closes, which the kernel
 * does however this process dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Tracked {
  /** Kill the whole process group (the child was spawned `detached`, e.g. cmake and its compilers). */
  group: boolean;
  watchdog?: ChildProcess;
}

const tracked = new Map<number, Tracked>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Sends `signal` to a pid (or its process group); a process that is already gone is not an error. */
export function killQuietly(pid: number, signal: NodeJS.Signals, group = false): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * True while `pid` is a running process. A zombie (exited, not yet reaped, e.g. an orphan in a container
 * whose init does not reap) counts as gone: it holds no port, memory or CPU.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: checks existence without sending anything
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/PID/stat is "pid (comm) STATE ..."; comm may contain spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

function killAll(): void {
  for (const [pid, entry] of tracked) {
    killQuietly(pid, 'SIGKILL', entry.group);
    if (entry.watchdog?.pid) killQuietly(entry.watchdog.pid, 'SIGKILL');
  }
  tracked.clear();
}

function onExit(): void {
  killAll();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  const othersListen = process.listenerCount(signal) > 1;
  uninstall();
  // Nobody else handles it: die of the signal as the process would have without our handler.
  if (!othersListen) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** The SIGKILL watchdog for `pid` (or its process group): see `whenGone`. */
function startWatchdog(pid: number, group: boolean): ChildProcess {
  return whenGone(['kill', '-s', 'KILL', '--', group ? `-${pid}` : `${pid}`]);
}

/**
 * Runs `argv` once this process is gone, however it went (SIGKILL included: no handler of ours runs then). A tiny
 * `sh` ignores terminal signals (the parent's handlers deal with those) and blocks reading a pipe only this process
 * holds; the kernel closes it when this process dies, and the command runs (a shell builtin such as `kill` too).
 * Kill the returned process (`killQuietly(pid, 'SIGKILL')`) to call it off. `detached`: in a session of its own, so
 * that what kills this process's group (a terminal, a supervisor) does not take it along.
 */
export function whenGone(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {}): ChildProcess {
  const watchdog = spawn('sh', ['-c', 'trap "" INT TERM HUP; read _unused; "$@" >/dev/null 2>&1', 'holdline-watchdog', ...argv], {
    cwd: options.cwd,
    env: options.env,
    detached: options.detached ?? false,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the watchdog nor its pipe may keep this process's event loop alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.stdin?.on('error', () => {});
  watchdog.on('error', () => {});
  return watchdog;
}

/**
 * Kills `child` (or its process group with `group: true`) if this process exits or is signalled before the
 * child has exited. Untracks itself when the child exits. Returns a function that untracks it early.
 */
export function trackChild(child: ChildProcess, options: { group?: boolean } = {}): () => void {
  const pid = child.pid;
  if (pid === undefined) return () => {};
  const group = options.group ?? false;
  const entry: Tracked = { group, watchdog: startWatchdog(pid, group) };
  tracked.set(pid, entry);
  install();
  const untrack = (): void => {
    if (tracked.get(pid) !== entry) return;
    tracked.delete(pid);
    if (entry.watchdog?.pid) killQuietly(entry.watchdog.pid, 'SIGKILL');
    if (tracked.size === 0) uninstall();
  };
  child.once('exit', untrack);
  return untrack;
}
