/**
 * Two agent processes (as LiveKit runs two calls), one OpenRouter key (the fake), one real Redis (`REDIS_URL`):
 * the 429 the first call meets is never met by the second, which skips that model without a request. The fake's
 * journal is the witness: a/one is asked once across the fleet, not once per call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenRouter, when, type FakeOpenRouter } from '../../fakes/openrouter/public.js';
import { startAgentProcess, type Started } from '../../harness/stack/services.js';
import { closedPort } from '../../src/testing/ports.js';
import { startRedisServer, type RedisServer } from '../../src/testing/redis-server.js';

let redis: RedisServer | undefined;
let fake: FakeOpenRouter | undefined;
const agents: Started[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  fake = await startFakeOpenRouter({
    scenario: { agent: { models: ['a/one', 'b/two'] }, fake: { reply: { text: 'Paris.', ttft: '10ms' } } },
    rules: [when({ model: 'a/one' }).then({ error: 'rate-limit-per-minute', retryAfter: '30s' })],
  });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DOTENV_CONFIG_PATH: '/dev/null',
    OPENROUTER_API_KEY: 'sk-or-v1-fleet-e2e',
    OPENROUTER_BASE_URL: fake.baseURL,
    LLM_MODEL: 'a/one,b/two',
    LOCAL_LLM_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
    REDIS_URL: redis.url,
    LOG_LEVEL: 'info',
  };
  const quiet = () => undefined;
  const keep = (line: string) => line;
  agents.push(...(await Promise.all([startAgentProcess(env, 1, keep, quiet), startAgentProcess(env, 1, keep, quiet)])));
}, 180_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.child.stop()));
  await fake?.close();
  await redis?.stop();
});

/** Speaks one turn to an agent and resolves with its attempts and skips once the turn has ended (its event stream). */
async function turn(agent: Started, text: string): Promise<string[]> {
  const stream = await fetch(`${agent.url}/events?since=0`);
  const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
  const accepted = await fetch(`${agent.url}/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  expect(accepted.status).toBe(202);
  const seen: string[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the event stream ended before the turn did; seen: ${seen.join(', ')}`);
    buffer += new TextDecoder().decode(value);
    const frames = buffer.split('\n\n');
    buffer = frames.pop() ?? '';
    for (const frame of frames) {
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const event = JSON.parse(data.slice(6)) as { type: string; model?: string; outcome?: string };
      if (event.type === 'attempt') seen.push(`${event.model}:${event.outcome}`);
      if (event.type === 'skip') seen.push(`${event.model}:skip`);
      if (event.type === 'turn_end') {
        await reader.cancel();
        return [...seen, `turn_end:${event.outcome}`];
      }
    }
  }
}

describe('shared cooldowns across agent processes (real Redis)', () => {
  it('the second call skips the model the first one found rate limited: one request to it fleet-wide', async () => {
    const [first, second] = agents as [Started, Started];
    expect(await turn(first, 'What is the capital of France?')).toEqual(['a/one:rate-limit', 'b/two:ok', 'turn_end:answered']);
    expect(await turn(second, 'What is the capital of France?')).toEqual(['a/one:skip', 'b/two:ok', 'turn_end:answered']);
    const asked = (fake as FakeOpenRouter).journal().entries.map((e) => e.model);
    expect(asked.filter((m) => m === 'a/one')).toHaveLength(1);
    const status = (await (await fetch(`${second.url}/llm/status`)).json()) as { backends: { backend: string; ok: boolean; lastError?: { class: string } }[] };
    expect(status.backends[0]).toMatchObject({ backend: 'openrouter:a/one', ok: false, lastError: { class: 'rate-limit' } });
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(/holdline_redis_up 1/);
  });
});
