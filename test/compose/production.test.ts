/**
 * docker-compose.yml on a real engine, as far as this machine allows. What starts here is started and must
 * turn healthy or behave as it would in production:
 *
 * - llama_cpp (profile local-llm): the service as written (image, port, healthcheck, alias, network) with one
 *   change: the tiny model mounted in place of the Qwen3 download (no Hugging Face here). It turns healthy
 *   and serves the model under the alias the agent asks for.
 * - agent: built from the Dockerfile, `npm start` with the file's environment. With no LiveKit server it cannot
 *   turn healthy (its health server answers 503 until it is connected): it must run, answer its healthcheck
 *   with 503, and keep trying LiveKit at the address the file gives it.
 *
 * - redis (profile redis): turns healthy, is not published on the host, and holds nothing across a restart.
 *
 * What cannot start here, and why: livekit (its image cannot be pulled, and no honest stand-in exists),
 * kokoro and nemotron (their images cannot be pulled; nemotron also needs an NVIDIA GPU and an NGC key).
 * Those are checked statically in compose.test.ts only.
 */
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../tools/llama/model.js';
import { exec, run } from '../../tools/kit/run-command.js';
import { exclusive } from '../kit/exclusive.js';
import { engineTests } from '../kit/containers.js';
import { tempDir } from '../kit/temp.js';

const ROOT = join(import.meta.dirname, '../..');
const engine = await engineTests();
const ALIAS = 'qwen3-4b-instruct'; // the file's default LOCAL_LLM_MODEL and llama_cpp --alias

describe.skipIf(!engine.run)(`docker-compose.yml on a real engine${engine.run ? '' : ` (skipped: ${engine.why})`}`, () => {
  const dir = tempDir('prod');
  const project = `holdline-prod-${process.pid}`;
  let compose: (...args: string[]) => Promise<string>;

  beforeAll(async () => {
    const model = await ensureTinyModel();
    // The project directory holds its own .env (the dev-mode LiveKit keys, which the file requires), never the checkout's.
    writeFileSync(join(dir, '.env'), 'LIVEKIT_API_KEY=devkey\nLIVEKIT_API_SECRET=secret\n');
    const ca = process.env.NODE_EXTRA_CA_CERTS;
    const withCa = ca && existsSync(ca);
    writeFileSync(
      join(dir, 'here.override.yml'),
      [
        'services:',
        '  agent:',
        '    build:',
        `      context: ${JSON.stringify(ROOT)}`,
        ...(withCa ? ['      secrets: [host_ca]'] : []),
        '    depends_on: !reset {}', // LiveKit cannot start here
        '    ports: !reset []', // no fixed host ports in a test
        '  llama_cpp:',
        `    command: !override [-m, /models/${model.path.split('/').pop()}, --alias, ${ALIAS}, --host, 0.0.0.0, --port, "8080", -t, "1", -c, "1024", -np, "1"]`,
        `    volumes: !override [${JSON.stringify(`${join(model.path, '..')}:/models:ro`)}]`,
        ...(withCa ? ['secrets:', '  host_ca:', `    file: ${JSON.stringify(ca)}`] : []),
        '',
      ].join('\n'),
    );
    const files = ['-f', join(ROOT, 'docker-compose.yml'), '-f', join(dir, 'here.override.yml')];
    compose = (...args) => run('docker', ['compose', '-p', project, '--project-directory', dir, ...files, '--profile', 'local-llm', ...args], { timeoutMs: 600_000 });
  });

  afterAll(async () => {
    await compose?.('down', '-v', '--timeout', '5').catch(() => {});
  });

  // Each test holds the rehearsal lock for the whole life of its containers: an agent starting up (tsx compiling,
  // the worker and its job process warming) would steal CPU from a timed rehearsal in another test file.
  it('llama_cpp (local-llm) turns healthy and serves the model under the alias the agent asks for', { timeout: 300_000 }, async () => {
    await exclusive(async () => {
      try {
        await compose('up', '-d', '--wait', '--no-deps', 'llama_cpp');
        const models = JSON.parse(await compose('exec', '-T', 'llama_cpp', 'curl', '-fsS', 'http://127.0.0.1:8080/v1/models')) as { data: { id: string }[] };
        expect(models.data.map((m) => m.id)).toEqual([ALIAS]);
        const answer = JSON.parse(
          await compose('exec', '-T', 'llama_cpp', 'curl', '-fsS', 'http://127.0.0.1:8080/v1/chat/completions', '-H', 'content-type: application/json', '-d',
            JSON.stringify({ model: ALIAS, messages: [{ role: 'user', content: 'Hi?' }], max_tokens: 4 })),
        ) as { choices: { message: { role: string } }[] };
        expect(answer.choices[0]?.message.role).toBe('assistant');
      } finally {
        await compose('rm', '-f', '-s', '-v', 'llama_cpp');
      }
    });
  });

  it('redis (profile redis) turns healthy, reaches nobody outside the compose network, and comes back empty after a restart', { timeout: 120_000 }, async () => {
    await exclusive(async () => {
      const redis = (...args: string[]) => compose('--profile', 'redis', ...args);
      try {
        await redis('up', '-d', '--wait', '--no-deps', 'redis');
        expect((await redis('exec', '-T', 'redis', 'redis-cli', 'ping')).trim()).toBe('PONG');
        const id = (await redis('ps', '-q', 'redis')).trim();
        expect((await run('docker', ['inspect', '--format', '{{json .NetworkSettings.Ports}}', id])).trim()).toBe('{"6379/tcp":null}');
        await redis('exec', '-T', 'redis', 'redis-cli', 'set', 'holdline:probe', '1');
        await redis('restart', 'redis');
        // No persistence: what the fleet shared is gone, as after the rehearsals' kill and start.
        expect((await redis('exec', '-T', 'redis', 'redis-cli', 'exists', 'holdline:probe')).trim()).toBe('0');
      } finally {
        await redis('rm', '-f', '-s', '-v', 'redis');
      }
    });
  });

  it('the agent runs the LiveKit worker, answers its healthcheck 503 without LiveKit, and keeps trying livekit:7880', { timeout: 600_000 }, async () => {
    await exclusive(async () => {
      try {
        await compose('up', '-d', '--build', '--no-deps', 'agent');
        const id = (await compose('ps', '-q', 'agent')).trim();
        // The healthcheck runs every 10 s once the 30 s start period began; its log keeps the last answers.
        let health = '';
        for (let i = 0; i < 120 && !health.includes('answered 503'); i++) {
          await sleep(1_000);
          health = (await exec('docker', ['inspect', '--format', '{{json .State.Health}}', id])).stdout;
        }
        expect(health).toContain('unhealthy: GET http://127.0.0.1:8081/ answered 503');
        const state = JSON.parse(await run('docker', ['inspect', '--format', '{{json .State}}', id])) as { Running: boolean; Restarting: boolean };
        expect(state).toMatchObject({ Running: true, Restarting: false });
        expect(await compose('logs', 'agent')).toContain('getaddrinfo ENOTFOUND livekit');
      } finally {
        await compose('rm', '-f', '-s', '-v', 'agent');
      }
    });
  });
});
