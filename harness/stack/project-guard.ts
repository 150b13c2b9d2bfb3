/**
 * Takes a compose project down if the runner dies without doing so itself: a second Ctrl-C (process.exit), SIGKILL,
 * an OOM kill, a killed test worker. Containers do not die with the runner, and Testcontainers' reaper (Ryuk) is off
 * here (no registry for its image), so nothing else would remove them: they would pile up on a shared engine until
 * its address pools ran out. A shell in its own session waits on a pipe only this process holds; end of file (this
 * process gone, however it went) runs `docker compose ... down`. The same idea as tools/kit/processes.ts's watchdog,
 * which kills a pid; hand-written for the same reason: no library outlives the process it guards.
 */
import { spawn } from 'node:child_process';

export interface ProjectGuard {
  /** The runner took the project down itself: the guard goes without running anything. */
  release(): void;
}

/** `composeArgs`: `compose -p <project> -f ... --env-file ... [--profile ...]`; the guard adds `down`. */
export function guardProject(composeArgs: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; docker?: string }): ProjectGuard {
  const command = [options.docker ?? 'docker', ...composeArgs, 'down', '-v', '--timeout', '2'];
  const guard = spawn('sh', ['-c', 'trap "" INT TERM HUP; read _unused; exec "$@" >/dev/null 2>&1', 'holdline-compose-guard', ...command], {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own session: a terminal's Ctrl-C does not reach it, and it outlives the runner
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the guard nor its pipe may keep the runner's event loop alive.
  guard.unref();
  (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  guard.stdin?.on('error', () => {});
  guard.on('error', () => {});
  return {
    release() {
      if (guard.pid !== undefined && guard.exitCode === null) {
        try {
          process.kill(guard.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}
