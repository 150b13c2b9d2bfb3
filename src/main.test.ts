/** The agent's entry points as a person meets them: bad flags and bad environments, as processes. */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A clean environment: no .env of the developer's, no inherited OpenRouter settings.
    const child = spawn(tsx, args, { cwd: '/tmp', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `body` while another process's server holds a loopback port (this process's: the child cannot bind it). */
async function withTakenPort(body: (port: number) => Promise<void>): Promise<void> {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    await body((taken.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}

describe('npm run agent', () => {
  it('a bad environment: every problem listed, exit 1, nothing started', async () => {
    const r = await run([`${root}src/main.ts`, '--rehearsal'], {
      OPENROUTER_API_KEY: 'sk-or-v1-never-printed',
      LLM_MODEL: 'a/one,a/one',
      LOCAL_LLM_BASE_URL: 'ftp:/nope',
      BACKOFF_MAX_MS: 'lots',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      [
        'invalid configuration:',
        '  - LLM_MODEL: duplicate model "a/one"',
        '  - LOCAL_LLM_BASE_URL: expected an http(s) URL, got "ftp:/nope"',
        '  - BACKOFF_MAX_MS: expected whole milliseconds like 8000, got "lots"',
      ].join('\n'),
    );
    expect(r.stdout + r.stderr).not.toContain('never-printed');
  });

  it('usage errors exit 2 with the usage line', async () => {
    const r = await run([`${root}src/main.ts`, '--rehearsal', '--speed', 'fast'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--speed: expected a positive number, got fast');
    expect(r.stderr).toContain('usage: npm run agent -- --rehearsal');
  });

  it('a --port another process holds: one line naming it, exit 1', async () => {
    await withTakenPort(async (port) => {
      const r = await run([`${root}src/main.ts`, '--rehearsal', '--port', String(port)], {});
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`--port ${port} --host 127.0.0.1: the rehearsal agent could not listen (listen EADDRINUSE: address already in use 127.0.0.1:${port})`);
    });
  });

  it("the production worker: an HTTP_PORT another worker holds stops it at start, naming the port (its calls would go unwatched)", async () => {
    await withTakenPort(async (port) => {
      const r = await run([`${root}src/worker.ts`, 'start'], { HTTP_PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `HTTP_PORT ${port} on 127.0.0.1: the worker's status server could not listen (listen EADDRINUSE: address already in use 127.0.0.1:${port}); another worker holds it? Give each worker its own HTTP_PORT.`,
      );
    });
  });

  it('the production worker validates its environment before starting', async () => {
    const r = await run([`${root}src/worker.ts`, 'start'], { RETRY_WINDOW_MS: '1m' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('invalid configuration:\n  - RETRY_WINDOW_MS: expected whole milliseconds like 60000, got "1m"');
  });
});
