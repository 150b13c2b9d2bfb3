import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../contract/scenario/load.js';
import { startFake } from './server.js';
import { KEY, makeScenario, MODEL_A, USER } from './testing.js';

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

  it('an alias bomb is one clear problem: exit 2, one line, and with --json exactly one JSON object', async () => {
    const file = join(dir, 'bomb.yaml');
    const levels = Array.from({ length: 9 }, (_, i) => `    l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    writeFileSync(file, ['name: bomb', 'description: d', 'agent: { models: [a/b] }', 'user:', '  - at: 1s', '    say: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]', '  - at: 2s', '    say:', ...levels.map((l) => `  ${l}`), ''].join('\n'));
    const shown = relative(ROOT, file);
    const plain = await runCli(['--scenario', file, '--port', '0']);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${shown}:\\d+:\\d+ expands to more than 100000 values`))]);

    const json = await runCli(['--scenario', file, '--port', '0', '--json']);
    expect(json.code).toBe(2);
    const body = JSON.parse(json.stdout) as { ok: boolean; problems: { file: string; text: string }[] };
    expect(body.ok).toBe(false);
    expect(body.problems).toEqual([expect.objectContaining({ file: shown, text: plain.stderr.trim() })]);
  });

  it('a path that is not a regular file exits 2 at once (a FIFO would hang, /dev/zero never ends)', async () => {
    const run = await runCli(['--scenario', '/dev/zero', '--port', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/:1:1 not a regular file \(a device\)/);
  });

  it('--admin-token locks the control API (health stays open); --json prints JSON lines; the token is never printed', async () => {
    const token = 'cli-admin-token-0123456789';
    const statuses: number[] = [];
    const run = await runCli(['--scenario', 'rate-limit-storm', '--port', '0', '--json', '--admin-token', token], (line, child) => {
      const { listening } = JSON.parse(line) as { listening?: string };
      if (!listening) return;
      void (async () => {
        for (const headers of [{}, { Authorization: `Bearer ${token}` }] as Record<string, string>[]) statuses.push((await fetch(`${listening}/__fake/journal`, { headers })).status);
        statuses.push((await fetch(`${listening}/__fake/health`)).status);
        child.kill('SIGINT');
      })();
    });
    expect(run.code).toBe(0);
    expect(statuses).toEqual([401, 200, 200]);
    expect(run.stdout.trim().split('\n').map((l) => Object.keys(JSON.parse(l) as object))).toEqual([['listening', 'baseURL', 'scenario', 'seed', 'speed']]);
    expect(run.stdout + run.stderr).not.toContain(token);
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
    expect(run.stdout).toContain('account: 10 credits bought; per key, :free models answer 20 requests a minute and 1000 a day, then 429.');
    expect(run.stdout).toMatch(new RegExp(`\\d+\\.\\d{3}s  ${MODEL_A.replace(/[.]/g, '\\.')}  \\d{3}  [\\d.]+(ms|s)  (rule 0: |no rule matched)`));
    expect(run.stdout).toContain('sigint: closing');
  });

  it('--record proxies to the upstream and, on SIGINT, writes a scenario without the key', async () => {
    const upstream = await startFake({ scenario: makeScenario({ reply: { text: 'Paris.', ttft: '0ms' } }), speed: 20 });
    const out = join(dir, 'recorded-outage.yaml');
    try {
      let answered = '';
      const run = await runCli(['--record', out, '--upstream', upstream.baseURL, '--port', '0'], (line, child) => {
        const found = /^OPENROUTER_BASE_URL=(.+)$/.exec(line);
        if (!found?.[1]) return;
        void fetch(`${found[1]}/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ model: MODEL_A, messages: USER }) })
          .then((r) => r.text())
          .then((text) => {
            answered = text;
            child.kill('SIGINT');
          });
      });
      expect(run.code).toBe(0);
      expect(JSON.parse(answered)).toMatchObject({ choices: [{ message: { content: 'Paris.' } }] });
      expect(run.stdout).toContain(`wrote ${out} (1 request(s))`);
      const written = readFileSync(out, 'utf8');
      expect(written).not.toContain(KEY);
      const scenario = loadScenarioFile(out);
      expect(scenario).toMatchObject({ name: 'recorded-outage', agent: { models: [MODEL_A] } });
      expect(scenario.fake.rules[0]?.then).toMatchObject({ kind: 'reply', text: 'withheld' });
    } finally {
      await upstream.close();
    }
  });

  it('--record: a bad command line exits 2 with the usage', async () => {
    for (const args of [['--record', 'out.txt', '--upstream', 'http://x'], ['--record', 'o.yaml'], ['--record', 'o.yaml', '--upstream', 'http://x', '--scenario', 'calm-day']]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--record <out.yaml> --upstream <base url>');
    }
  });
});
