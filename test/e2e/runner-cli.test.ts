/**
 * `npm run scenario` as people run it: its output (timeline, --json, --report), its exit codes, and that
 * nothing it started outlives it: not on Ctrl-C, not when a service crashes, not when one fails to start.
 * Nothing here judges wall-time instants, so it runs beside the virtual-time rehearsals; the wall-time --json is
 * in runner-cli.wall.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { libraryNames } from '../../contract/scenario/library.js';
import { isAlive } from '../../tools/kit/processes.js';
import { tempDir } from '../kit/temp.js';
import { interruptRunners, parsePids, startRunner } from './runner-process.js';
import { engineTests } from '../kit/containers.js';
import { exec } from '../../tools/kit/run-command.js';

const dir = tempDir('cli');
const PIDS = /· pids: (.*)\n/;
afterAll(interruptRunners);

function scenarioFile(name: string, text: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('npm run scenario', { timeout: 90_000 }, () => {
  it('lists the library with descriptions', async () => {
    const { code, stdout } = await startRunner(['--list']).exited;
    expect(code).toBe(0);
    for (const name of libraryNames()) expect(stdout).toMatch(new RegExp(`^${name} +\\S`, 'm'));
  });

  it('exits 2 with every problem of a scenario file as file:line:col key: message', async () => {
    const file = scenarioFile('broken', 'name: broken\ndescription: x\nagent: { models: [] }\nuser: [{ at: 2, say: hi }]\n');
    const { code, stderr } = await startRunner(['--file', file, '--stack', 'processes']).exited;
    expect(code).toBe(2);
    expect(stderr).toMatch(/broken\.yaml:3:\d+ agent\.models: expected at least one model in the chain/);
    expect(stderr).toMatch(/broken\.yaml:4:\d+ user\[0\]\.at: expected a duration like "2s", got 2/);
  });

  it('an alias bomb exits 2 with one problem, and --json prints exactly one object saying so', async () => {
    const levels = Array.from({ length: 9 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    const file = scenarioFile('bomb', ['name: bomb', 'description: d', 'agent: { models: [a/b] }', 'x:', '  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...levels, ''].join('\n'));
    const { code, stdout, stderr } = await startRunner(['--file', file, '--json']).exited;
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/bomb\.yaml:\d+:\d+ expands to more than 100000 values once its aliases are followed/)]);
    const json = JSON.parse(stdout) as { passed: boolean; failures: string[] };
    expect(json).toMatchObject({ scenario: file, passed: false, failures: [stderr.trim()] });
  });

  it('exits 2 on a usage error and on a name not in the library', async () => {
    expect((await startRunner(['calm-day', '--speed', '0']).exited).code).toBe(2);
    const unknown = await startRunner(['no-such-outage']).exited;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no scenario named "no-such-outage" in the library; these are: caller-interrupts-hold, calm-day');
  });

  it('exits 1 and says what differed when the caller hears something else', { timeout: 90_000 }, async () => {
    const calm = readFileSync(join(import.meta.dirname, '../../scenarios/calm-day.yaml'), 'utf8');
    const file = scenarioFile('calm-but-wrong', calm.replace('name: calm-day', 'name: calm-but-wrong').replace('"Rome is the capital of Italy.", source', '"Milan is the capital of Italy.", source'));
    // On the runner's virtual time across processes: the timeline says so.
    const { code, stdout } = await startRunner(['--file', file, '--speed', 'virtual', '--stack', 'processes']).exited;
    expect(code).toBe(1);
    expect(stdout).toContain('(virtual time, seed');
    expect(stdout).toMatch(
      /- spoken\[1\]: expected "Milan is the capital of Italy." from openrouter:meta-llama\/llama-3.3-70b-instruct:free starting 5s\.\.7\.5s, heard "Rome is the capital of Italy." from openrouter:meta-llama\/llama-3.3-70b-instruct:free at \d+(\.\d+)?s/,
    );
    expect(stdout).toMatch(/^ {2}\d+\.\d\ds\.\.\d+\.\d\ds +openrouter:meta-llama\/llama-3.3-70b-instruct:free: "Rome is the capital of Italy."$/m);
  });
});

describe('nothing the runner started outlives it', () => {
  it('on Ctrl-C mid-scenario: every service stopped, llama-server included, exit 130', { timeout: 90_000 }, async () => {
    const runner = startRunner(['openrouter-down-local-up', '--speed', '1', '--stack', 'processes']);
    const pids = parsePids((await runner.waitForStderr(PIDS))[0]);
    expect(Object.keys(pids).sort()).toEqual(['llama-server', 'the agent', 'the fake OpenRouter']);
    await runner.waitForStderr(/caller at 0\.0s/);
    process.kill(runner.pid, 'SIGINT');
    const { code, stderr } = await runner.exited;
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted (SIGINT): every service was stopped');
    for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), `${name} (pid ${pid})`).toBe(false);
  });

  it('when a service crashes: the others stopped, the crashed one named, exit 3', { timeout: 90_000 }, async () => {
    const runner = startRunner(['calm-day', '--speed', '1', '--stack', 'processes']);
    const pids = parsePids((await runner.waitForStderr(PIDS))[0]);
    await runner.waitForStderr(/caller at 0\.0s/);
    const agent = pids['the agent'] as number;
    process.kill(agent, 'SIGKILL');
    const { code, stderr } = await runner.exited;
    expect(code).toBe(3);
    expect(stderr).toContain(`the rehearsal failed: the agent (pid ${agent}) stopped unexpectedly on SIGKILL`);
    for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), `${name} (pid ${pid})`).toBe(false);
  });

  it("when a service cannot start: the others stopped, its own words shown, exit 3", { timeout: 90_000 }, async () => {
    const file = scenarioFile(
      'bad-config',
      'name: bad-config\ndescription: x\nagent: { models: [a/one], env: { RETRY_WINDOW_MS: soon } }\nuser: [{ at: 0s, say: "Hi?" }]\n',
    );
    const runner = startRunner(['--file', file, '--stack', 'processes']);
    const fake = Number((await runner.waitForStderr(/the fake OpenRouter is up at \S+ \(pid (\d+)\)/))[1]);
    const { code, stderr } = await runner.exited;
    expect(code).toBe(3);
    expect(stderr).toContain('could not start the rehearsal: the agent exited with code 1 before it was ready');
    expect(stderr).toMatch(/RETRY_WINDOW_MS: expected whole milliseconds like 60000, got "soon"/);
    expect(isAlive(fake)).toBe(false);
  });
});

const engine = await engineTests();

describe.runIf(engine.run)(`nothing the runner started outlives it, on containers (${engine.why})`, () => {
  it("when a fleet's agents cannot start: the compose project is gone, the agents named with their own words, exit 3", { timeout: 5 * 60_000 }, async () => {
    const file = scenarioFile(
      'bad-config-fleet',
      'name: bad-config-fleet\ndescription: x\nagent: { models: [a/one], env: { RETRY_WINDOW_MS: soon } }\ncalls: 2\nuser: [{ at: 0s, say: "Hi?" }]\n',
    );
    const runner = startRunner(['--file', file, '--stack', 'containers', '--speed', '1']);
    const { code, stderr } = await runner.exited;
    const project = /\(project (holdline-[0-9a-f]+)\)/.exec(stderr)?.[1];
    expect(project).toBeDefined();
    expect(code).toBe(3);
    // The first agent to fail is named, with its own words (whether it exited before compose's start was over or during its wait).
    expect(stderr).toMatch(/agent-\d(-1)?(: Log stream ended| exited)[^\n]*; its last output:\n( {2}\| .*\n)* {2}\| .*RETRY_WINDOW_MS: expected whole milliseconds like 60000, got "soon"/);
    // Without Ryuk nothing else would remove them: no container of the project is left, running or not.
    const left = await exec('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
    expect(left.code).toBe(0);
    expect(left.stdout.trim()).toBe('');
  });
});
