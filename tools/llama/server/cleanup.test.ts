/**
 * No llama-server outlives the process that started it: a parent process (testing/fixtures/parent.ts)
 * starts one, then is interrupted, terminated, killed outright, or simply exits; the server must be gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLlama } from '../ensure.js';
import { isAlive, killQuietly } from '../../kit/processes.js';

const fixture = fileURLToPath(new URL('../testing/fixtures/parent.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Parent {
  process: ChildProcess;
  serverPid: number;
}

/** Starts the parent and resolves with the server pid it prints once the server is healthy. */
async function startParent(mode: 'idle' | 'exit'): Promise<Parent> {
  const parent = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  parent.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: parent.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(parent, 'exit').then(() => {
      throw new Error(`parent exited before starting the server:\n${stderr}`);
    }),
  ])) as [string];
  const { pid } = JSON.parse(line) as { pid: number };
  return { process: parent, serverPid: pid };
}

beforeAll(async () => {
  await ensureLlama();
}, 20 * 60_000);

describe('llama-server cleanup when its parent goes', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)(
    'is gone after the parent gets %s',
    async (signal) => {
      const parent = await startParent('idle');
      try {
        expect(isAlive(parent.serverPid)).toBe(true);
        const exited = once(parent.process, 'exit');
        parent.process.kill(signal);
        const [code, how] = (await exited) as [number | null, NodeJS.Signals | null];
        // The handlers clean up and then let the signal kill the parent as usual.
        expect({ code, how }).toEqual({ code: null, how: signal });
        // SIGKILL runs no handler: the watchdog notices the parent's pipe closing and kills the server.
        await expect.poll(() => isAlive(parent.serverPid), { timeout: 10_000, interval: 20, message: `llama-server ${parent.serverPid} to be gone` }).toBe(false);
      } finally {
        killQuietly(parent.serverPid, 'SIGKILL');
        killQuietly(parent.process.pid ?? 0, 'SIGKILL');
      }
    },
    60_000,
  );

  it('is gone after the parent exits on its own', async () => {
    const parent = await startParent('exit');
    try {
      await once(parent.process, 'exit');
      await expect.poll(() => isAlive(parent.serverPid), { timeout: 10_000, interval: 20, message: `llama-server ${parent.serverPid} to be gone` }).toBe(false);
    } finally {
      killQuietly(parent.serverPid, 'SIGKILL');
    }
  }, 60_000);
});
