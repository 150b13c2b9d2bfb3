/** Starts bench/fake/serve.ts in a child process and hands back its URL and a way to stop it. */
import { fileURLToPath } from 'node:url';
import { startService } from '../../tools/kit/service.js';

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
/** Generous: tsx compiles the fake (or loads mockttp) on the fly on a busy machine. */
const READY_TIMEOUT_MS = 60_000;

export interface ServerProcess {
  url: string;
  /** The server's process id (its CPU and run-queue time are read from /proc: cpu-time.ts). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * A service of the process kit: killed with us even if the bench dies without stopping it, and a server that
 * fails to start (it exits instead of printing its URL) fails with its last output.
 */
export async function serveInChild(kind: 'fake' | 'mockttp', arg: string, options: { cpuProfDir?: string } = {}): Promise<ServerProcess> {
  // `node --cpu-prof` writes the server's profile when it exits (NODE_OPTIONS refuses the flag).
  const profile = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  const spec = { name: `serve.ts ${kind}`, command: process.execPath, args: [...profile, '--import', 'tsx', SERVE, kind, arg], cwd: process.cwd(), env: process.env };
  const { child, url } = await startService(spec, async (started) => {
    const line = await started.waitForLine((printed) => (printed.startsWith('{') ? printed : undefined), READY_TIMEOUT_MS);
    return (JSON.parse(line) as { url: string }).url;
  });
  return { url, pid: child.pid, stop: () => child.stop() };
}
