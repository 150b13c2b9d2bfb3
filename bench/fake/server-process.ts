/** Starts bench/fake/serve.ts in a child process and hands back its URL and a way to stop it. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));

export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

export async function serveInChild(kind: 'fake' | 'mockttp', arg: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE, kind, arg], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, 'line')) as [string];
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
