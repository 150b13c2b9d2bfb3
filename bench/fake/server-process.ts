/** Starts bench/fake/serve.ts in a child process and hands back its URL and a way to stop it. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../../tools/kit/processes.js';

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));

export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

export async function serveInChild(kind: 'fake' | 'mockttp', arg: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE, kind, arg], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Killed with us, even if the bench dies without stopping it.
  trackChild(child);
  const lines = createInterface({ input: child.stdout });
  // A server that fails to start exits (its error on our stderr) instead of printing its URL.
  const exitedEarly = once(child, 'exit').then(([code]) => {
    throw new Error(`serve.ts ${kind} exited (code ${String(code)}) before it was listening`);
  });
  exitedEarly.catch(() => {}); // it settles at stop() too, when nobody listens any more
  const [first] = (await Promise.race([once(lines, 'line'), exitedEarly])) as [string];
  lines.close();
  const { url } = JSON.parse(first) as { url: string };
  return {
    url,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
