/**
 * The published packages, from their tarballs alone: `npm run pack`, then fresh projects in a temporary folder
 * (no path back to this repository; dependencies from the npm registry, the local npm cache first) that
 *   1. install @holdline/fake alone: no LiveKit, onnxruntime or llama in its tree; its installed size is printed;
 *   2. run `npx holdline-fake` on a scenario file of their own;
 *   3. run a vitest test of their own that uses the fake and its assertion helpers;
 *   4. build an agent with createHoldlineLLM and get a turn through it (a 429, then the answer);
 *   5. rehearse an example agent with `npx holdline scenario ... --agent`;
 *   6. typecheck TypeScript that uses both packages against the shipped .d.ts.
 * Install times and sizes are printed (the README quotes them); nothing here is timed against a limit.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResultJson } from '../../harness/result.js';
import { killQuietly } from '../../tools/kit/processes.js';
import { exclusive } from '../kit/exclusive.js';
import { tempDir } from '../kit/temp.js';
import { packAll, ROOT, type Packed } from '../../packages/pack.js';

const execFileAsync = promisify(execFile);
const work = tempDir('packages');
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
/** A registry dependency at the version this repository uses. */
const dep = (name: string) => `${name}@${rootManifest.dependencies[name] ?? rootManifest.devDependencies[name]}`;
/** Nothing of this repository's environment (NODE_OPTIONS, npm_config_* of the npm test run) reaches the projects. */
const cleanEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|NODE_OPTIONS$|NODE_PATH$|VITEST|TSX|FORCE_COLOR)/i.test(k))),
  NO_COLOR: '1',
};

let fake: Packed;
let holdline: Packed;

// Packing, installing, compiling and rehearsing are CPU-heavy: each step takes the machine's rehearsal lock
// (test/kit/exclusive.ts), so a timing-sensitive rehearsal in another test file never runs beside one.
beforeAll(async () => {
  const packed = await exclusive(async () => packAll());
  fake = packed.find((p) => p.name === '@holdline/fake')!;
  holdline = packed.find((p) => p.name === 'holdline')!;
}, 600_000);

/** A fresh project folder with only its own package.json. */
function project(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return dir;
}

/** Runs a command in a project; rejects with its output unless it exits with one of `okCodes`. */
async function sh(cwd: string, command: string, args: string[], { timeoutMs = 300_000, okCodes = [0] } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await execFileAsync(command, args, { cwd, env: cleanEnv, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })) };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code === 'number' && okCodes.includes(e.code)) return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    throw new Error(`${command} ${args.join(' ')} failed (${e.code ?? e.message}) in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** npm install, timed; the local cache first (CI's `npm ci` filled it), the registry for the rest. */
async function install(dir: string, specs: string[]): Promise<number> {
  return exclusive(async () => {
    const started = Date.now();
    await sh(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { timeoutMs: 600_000 });
    return (Date.now() - started) / 1000;
  });
}

function duKiB(path: string): Promise<number> {
  return execFileAsync('du', ['-sk', path]).then(({ stdout }) => Number(stdout.split(/\s/)[0]));
}

describe('the packages from their tarballs, in a fresh project', () => {
  describe('@holdline/fake alone', () => {
    let dir: string;
    beforeAll(async () => {
      dir = project('fake-only');
      const seconds = await install(dir, [fake.file]);
      console.log(`[packages] @holdline/fake: installed in ${seconds.toFixed(1)} s, node_modules ${((await duKiB(join(dir, 'node_modules'))) / 1024).toFixed(1)} MiB (the package itself ${((await duKiB(join(dir, 'node_modules/@holdline/fake'))) / 1024).toFixed(2)} MiB)`);
    }, 600_000);

    it('brings no LiveKit, onnxruntime or llama', async () => {
      const { stdout } = await sh(dir, 'npm', ['ls', '--all', '--parseable']);
      expect(stdout).toContain('@holdline/fake');
      expect(stdout).not.toMatch(/@livekit|onnxruntime|node-llama-cpp/);
    });

    it('npx holdline-fake serves a scenario file of the project, with the schema line for editors', { timeout: 60_000 }, async () => {
      writeFileSync(
        join(dir, 'my-outage.yaml'),
        [
          '# yaml-language-server: $schema=./node_modules/@holdline/fake/scenarios/scenario.schema.json',
          'name: my-outage',
          'description: the first request fails',
          'agent: { models: ["openai/gpt-4o-mini"] }',
          'fake:',
          '  rules:',
          '    - { when: { model: "openai/gpt-4o-mini", nth: 1 }, then: { error: provider-down } }',
        ].join('\n'),
      );
      expect(existsSync(join(dir, 'node_modules/@holdline/fake/scenarios/scenario.schema.json'))).toBe(true);
      const child = spawn('npx', ['holdline-fake', '--scenario', 'my-outage.yaml', '--port', '0'], { cwd: dir, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      const lines: string[] = [];
      try {
        const baseURL = await new Promise<string>((resolve, reject) => {
          createInterface({ input: child.stdout }).on('line', (line) => {
            lines.push(line);
            const match = /^OPENROUTER_BASE_URL=(\S+)$/.exec(line);
            if (match?.[1]) resolve(match[1]);
          });
          void exited.then((code) => reject(new Error(`holdline-fake exited with ${code} before serving`)));
        });
        const ask = () =>
          fetch(`${baseURL}/chat/completions`, {
            method: 'POST',
            headers: { authorization: 'Bearer sk-or-v1-any', 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
          }).then((r) => r.status);
        expect([await ask(), await ask()]).toEqual([502, 200]);
      } finally {
        // The whole group (npx, npm exec, the fake): Ctrl-C in a terminal does the same.
        killQuietly(child.pid ?? 0, 'SIGTERM', true);
      }
      await exited;
      expect(lines).toContain('sigterm: closing');
      expect(lines[0]).toBe('fake openrouter: scenario my-outage (seed 1), speed 1');
    });
  });

  describe('holdline and @holdline/fake in an agent project', () => {
    let dir: string;
    beforeAll(async () => {
      dir = project('agent-app');
      const registry = ['@livekit/agents', '@livekit/rtc-node', '@livekit/agents-plugin-openai', 'openai', 'zod', 'vitest', 'typescript', '@types/node'].map(dep);
      const seconds = await install(dir, [holdline.file, fake.file, ...registry]);
      console.log(`[packages] holdline + @holdline/fake + LiveKit + vitest: installed in ${seconds.toFixed(1)} s, node_modules ${((await duKiB(join(dir, 'node_modules'))) / 1024).toFixed(0)} MiB`);
    }, 600_000);

    it('runs a vitest test of its own that uses the fake and its assertion helpers', { timeout: 300_000 }, async () => {
      writeFileSync(
        join(dir, 'fake.test.js'),
        `import OpenAI from 'openai';
import { afterAll, expect, test } from 'vitest';
import { startFakeOpenRouter, when } from '@holdline/fake';
import { expectOutcomes, expectRequestsPerModel, requestsPerModel } from '@holdline/fake/assert';

const fake = await startFakeOpenRouter({
  scenario: { agent: { models: ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku'] }, fake: { reply: { text: 'Hi there.', ttft: '10ms' } } },
  rules: [when({ model: 'openai/*', nth: 1 }).then({ error: 'rate-limit-per-minute', retryAfter: '2s' })],
});
afterAll(() => fake.close());

test('a 429 first, then the answer', async () => {
  const client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'sk-or-v1-any', maxRetries: 0 });
  const ask = () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  await expect(ask()).rejects.toMatchObject({ status: 429 });
  expect((await ask()).choices[0].message.content).toBe('Hi there.');
  expectRequestsPerModel(fake, { 'openai/gpt-4o-mini': 2 });
  expectOutcomes(fake, ['429', '200']);
  expect(() => expectOutcomes(fake, ['200'])).toThrow(/differ/);
  expect(requestsPerModel(fake)).toEqual({ 'openai/gpt-4o-mini': 2 });
});
`,
      );
      const { stdout } = await exclusive(() => sh(dir, 'npx', ['vitest', 'run', 'fake.test.js']));
      expect(stdout).toMatch(/Tests\s+1 passed/);
    });

    it('builds an agent with createHoldlineLLM and gets a turn through its chain, with events and metrics', { timeout: 300_000 }, async () => {
      writeFileSync(
        join(dir, 'build-agent.js'),
        `import { initializeLogger, llm, voice } from '@livekit/agents';
import { startFakeOpenRouter, when } from '@holdline/fake';
import { createHoldlineLLM } from 'holdline';

initializeLogger({ pretty: false, level: 'error' });
const fake = await startFakeOpenRouter({
  scenario: { agent: { models: ['a/one', 'b/two'] }, fake: { reply: { text: 'Paris.', ttft: '10ms' } } },
  rules: [when({ model: 'a/one' }).then({ error: 'rate-limit-per-minute', retryAfter: '30s' })],
});
let refused = '';
try { createHoldlineLLM({ models: [], redis: { url: 'redis://x' } }); } catch (error) { refused = error.message; }
const chain = createHoldlineLLM({
  models: ['a/one', 'b/two'],
  openrouter: { apiKey: 'sk-or-v1-any', baseURL: fake.baseURL },
  local: { baseURL: 'http://127.0.0.1:9/v1' },
  log: false,
});
const agent = new voice.Agent({ instructions: 'Answer briefly.', llm: chain });
const seen = [];
chain.events.subscribe((e) => seen.push(e.type === 'attempt' ? e.type + ':' + e.model + ':' + e.outcome : e.type));
const chatCtx = llm.ChatContext.empty();
chatCtx.addMessage({ role: 'user', content: 'Capital of France?' });
let text = '';
for await (const chunk of chain.chat({ chatCtx })) text += chunk.delta?.content ?? '';
const metrics = await chain.metrics.metrics();
console.log(JSON.stringify({ agent: agent instanceof voice.Agent, text, seen, refused, counted: /holdline_llm_requests_total\\{[^}]*model="b\\/two"[^}]*outcome="ok"\\} 1/.test(metrics) }));
await fake.close();
process.exit(0);
`,
      );
      const { stdout } = await exclusive(() => sh(dir, 'node', ['build-agent.js']));
      const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { agent: boolean; text: string; seen: string[]; refused: string; counted: boolean };
      expect(out.agent).toBe(true);
      expect(out.text).toBe('Paris.');
      expect(out.seen).toEqual(['turn', 'attempt:a/one:rate-limit', 'attempt:b/two:ok', 'turn_end']);
      expect(out.counted).toBe(true);
      expect(out.refused).toContain('redis: expected a redis:// or rediss:// URL or an ioredis client');
      expect(out.refused).toContain('models: expected at least one OpenRouter model');
    });

    it('rehearses an example agent with npx holdline scenario --agent', { timeout: 300_000 }, async () => {
      copyFileSync(join(ROOT, 'examples/agents/holdline-agent.ts'), join(dir, 'my-agent.ts'));
      // Exit 1 is a verdict (a loaded machine can push an utterance past its window at speed 10), not a broken
      // install: what is checked here is that the module was rehearsed and the caller heard the chain speak.
      const { stdout } = await exclusive(() => sh(dir, 'npx', ['holdline', 'scenario', 'rate-limit-storm', '--agent', './my-agent.ts', '--speed', '10', '--json'], { okCodes: [0, 1] }));
      const json = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ResultJson;
      expect(json.spoken.map((s) => s.source)).toEqual(['hold', 'openrouter:meta-llama/llama-3.3-70b-instruct:free']);
      expect(json.requests.at(-1)?.outcome).toBe('200');
    });

    it('typechecks code that uses both packages against the shipped .d.ts, and catches a wrong option', { timeout: 300_000 }, async () => {
      copyFileSync(join(ROOT, 'examples/agents/holdline-agent.ts'), join(dir, 'typed-agent.ts'));
      writeFileSync(
        join(dir, 'typed-fake.ts'),
        `import { startFakeOpenRouter, when, type FakeOpenRouter } from '@holdline/fake';
import { expectOutcomes } from '@holdline/fake/assert';
const fake: FakeOpenRouter = await startFakeOpenRouter({ scenario: { agent: { models: ['a/b'] } }, rules: [when({ model: 'a/b', nth: 1 }).then({ error: 'provider-down' })] });
expectOutcomes(fake, ['502']);
await fake.close();
`,
      );
      writeFileSync(join(dir, 'wrong.ts'), `import { createHoldlineLLM } from 'holdline';\ncreateHoldlineLLM({ models: ['a/b'], holdMessage: 'x' });\n`);
      const tsconfig = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, noEmit: true, types: ['node'] } };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['typed-agent.ts', 'typed-fake.ts'] }));
      await exclusive(() => sh(dir, 'npx', ['tsc', '-p', 'tsconfig.json']));
      writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify({ ...tsconfig, files: ['wrong.ts'] }));
      const wrong = await exclusive(() => sh(dir, 'npx', ['tsc', '-p', 'tsconfig.wrong.json'], { okCodes: [2] }));
      expect(wrong.code).toBe(2);
      expect(wrong.stdout).toMatch(/wrong\.ts.*'holdMessage' does not exist/);
    });

    it('says plainly that a scenario needing llama-server cannot be played from the package', { timeout: 300_000 }, async () => {
      copyFileSync(join(ROOT, 'examples/agents/holdline-agent.ts'), join(dir, 'local-agent.ts'));
      const { code, stderr } = await exclusive(() => sh(dir, 'npx', ['holdline', 'scenario', 'openrouter-down-local-up', '--agent', './local-agent.ts'], { okCodes: [3] }));
      expect(code).toBe(3);
      expect(stderr).toContain('this scenario needs llama-server (agent.local: true), and this installation has no llama.cpp source');
    });

    it('npx holdline explains its commands', async () => {
      const { stdout } = await sh(dir, 'npx', ['holdline', '--help']);
      expect(stdout).toMatch(/holdline scenario <name> \[--agent \.\/my-agent\.ts\]/);
      expect(stdout).toMatch(/holdline fake --scenario/);
    });
  });
});
