import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { KEY, MODEL_A, USER } from './testing.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const CLI = join(ROOT, 'fakes/openrouter/cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'fake-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end; `onLine` sees stdout line by line and may act on the running process. */
function runCli(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { code: null, stdout: '', stderr: '' };
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      run.stdout += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(line, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
    // A safety net, not a wait: a CLI that never exits must not outlive the test run.
    const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ ...run, code });
    });
  });
}

describe('npm run fake', () => {
  it('prints every problem of a bad scenario as file:line:column key: message and exits 2', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, ['name: broken', 'description: d', 'agent: { models: [a/b] }', 'fake:', '  keepAliveEvery: 5', '  rules:', '    - { when: { nth: 0 }, then: hang }', ''].join('\n'));
    const run = await runCli(['--scenario', file, '--port', '0']);
    expect(run.code).toBe(2);
    const shown = relative(ROOT, file);
    expect(run.stderr.trim().split('\n')).toEqual([
      `${shown}:5:19 fake.keepAliveEvery: expected a duration like "2s", got 5`,
      `${shown}:7:22 fake.rules[0].when.nth: expected a request number like 1, a list like [1, 3] or "2+", got 0`,
    ]);
    expect(run.stdout).toBe('');
  });

  it('exits 2 with a usage line on a bad command line', async () => {
    for (const args of [[], ['--scenario', 'rate-limit-storm', '--speed', '0'], ['--scenario', 'x', '--bogus']]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('usage: holdline-fake --scenario <name or path>');
    }
  });

  it('prints the base URL line, one line per request, and stops cleanly on SIGINT', async () => {
    let baseURL = '';
    const run = await runCli(['--scenario', 'rate-limit-storm', '--port', '0'], (line, child) => {
      const found = /^OPENROUTER_BASE_URL=(.+)$/.exec(line);
      if (found?.[1]) {
        baseURL = found[1];
        void fetch(`${baseURL}/chat/completions`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ model: MODEL_A, messages: USER }),
        });
      }
      if (line.includes('POST') || line.includes(MODEL_A)) child.kill('SIGINT');
    });
    expect(run.code).toBe(0);
    expect(baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    expect(run.stdout).toContain('rule 0: for any model, arriving from 0s until 8s, answer 429 rate-limit-per-minute with Retry-After 2s.');
    expect(run.stdout).toMatch(new RegExp(`\\d+\\.\\d{3}s  ${MODEL_A.replace(/[.]/g, '\\.')}  \\d{3}  [\\d.]+(ms|s)  (rule 0: |no rule matched)`));
    expect(run.stdout).toContain('sigint: closing');
  });
});
