/**
 * `npm run scenario` with a fleet, as people run it: three calls on one key (three agent processes), a model
 * rate limited all along. With `--redis` the runner starts a real redis-server, the calls share the cooldown and
 * the storming model is asked once; without it each call rediscovers the 429 and the same expectations fail,
 * naming what the fleet spent. `--json` carries every call; with --json alone the fleet plays on processes (its
 * default stack, inline, cannot play one). Nothing the runner started outlives it: on success, on failure, on
 * Ctrl-C, redis-server and every agent included. Everything here plays on virtual time or judges no instant, so it
 * runs beside the library's shards (a wall-time fleet on processes plays in the library's wall phase:
 * fleet-redis-restart).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interruptRunners, parsePids, startRunner } from './runner-process.js';
import { expectAllGone, PIDS, smallFleet, type Json } from './small-fleet.js';

const file = smallFleet();
const dir = dirname(file);
afterAll(interruptRunners);

describe('npm run scenario with a fleet (calls: 3)', () => {
  it('--redis --json: plays on processes, every call hears the answer, the storming model is asked once; nothing is left running', { timeout: 240_000 }, async () => {
    const { code, stdout, stderr } = await startRunner(['--file', file, '--redis', '--json']).exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("--stack=inline (the default): child processes, because small-fleet is a fleet (calls: 3, agent.redis), which the inline stack cannot play, on the runner's virtual time");
    expect(stderr).toMatch(/redis-server is up at redis:\/\/127\.0\.0\.1:\d+/);
    const pids = parsePids(PIDS.exec(stderr)?.[0] ?? '');
    expect(Object.keys(pids).sort()).toEqual(['redis-server', 'the agent of call 1', 'the agent of call 2', 'the agent of call 3', 'the fake OpenRouter']);
    expectAllGone(pids);
    const json = JSON.parse(stdout) as Json;
    expect(json).toMatchObject({ passed: true, failures: [] });
    expect(json.calls?.map((c) => [c.call, c.spoken.map((s) => `${s.source}: ${s.text}`)])).toEqual([
      [1, ['openrouter:anthropic/claude-3.5-haiku: Paris.']],
      [2, ['openrouter:anthropic/claude-3.5-haiku: Paris.']],
      [3, ['openrouter:anthropic/claude-3.5-haiku: Paris.']],
    ]);
    expect(json.spoken).toEqual(json.calls?.[0]?.spoken);
  });

  it('without Redis each call rediscovers the 429: exit 1, the fleet-wide count says so, each call a lane; nothing is left running', { timeout: 240_000 }, async () => {
    const { code, stdout, stderr } = await startRunner(['--file', file, '--stack', 'processes', '--speed', 'virtual']).exited;
    expect(code, stderr).toBe(1);
    expect(stdout).toContain('requests to "openai/*": expected exactly 1 request, got 3');
    expect(stdout).toMatch(/^ {2}[\d.]+s +call 3 +caller: "What is the capital of France\?"$/m);
    expectAllGone(parsePids(PIDS.exec(stderr)?.[0] ?? ''));
  });

  it('Ctrl-C mid-fleet stops every agent and redis-server', { timeout: 240_000 }, async () => {
    const runner = startRunner(['--file', file, '--redis', '--calls', '2', '--stack', 'processes']);
    const pids = parsePids((await runner.waitForStderr(PIDS))[0]);
    expect(Object.keys(pids)).toContain('redis-server');
    await runner.waitForStderr(/call 1: caller at 0\.0s/);
    process.kill(runner.pid, 'SIGINT');
    const { code, stderr } = await runner.exited;
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted (SIGINT): every service was stopped');
    expectAllGone(pids);
  });

  it('refuses a fleet on the inline stack, which cannot play one, with exit 2 and the reason', { timeout: 120_000 }, async () => {
    const inline = await startRunner(['--file', file, '--stack', 'inline']).exited;
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain('--stack inline: small-fleet asks for calls: 3, which the inline stack runs one agent in this process: play it with --stack processes (on virtual time: --speed virtual) or --stack containers');
    const redisOnly = await startRunner(['calm-day', '--redis', '--stack', 'inline']).exited;
    expect(redisOnly.code).toBe(2);
    expect(redisOnly.stderr).toContain('--stack inline: calm-day asks for agent.redis, which the inline stack runs one agent in this process');
    const own = join(dir, 'own-redis.yaml');
    writeFileSync(own, 'name: own-redis\ndescription: d\nagent: { models: [a/b], env: { REDIS_URL: "redis://127.0.0.1:1" } }\n');
    const both = await startRunner(['--file', own, '--redis']).exited;
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--redis starts a Redis for the rehearsal and sets REDIS_URL itself, and own-redis's agent.env sets one: drop --redis or that variable");
  });
});
