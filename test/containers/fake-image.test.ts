/**
 * The fake-only image (Dockerfile.fake, docker-compose.fake.yml) in a real Docker engine: built from the packed
 * tarball, serving a scenario from the mounted ./scenarios, healthy, and answering as the scenario says. Runs
 * where the e2e tests run on containers (E2E_STACK=containers, or auto with an engine); E2E_STACK=containers
 * without an engine fails here as it does there. Where no engine answers, docker-compose.fake.yml and
 * Dockerfile.fake are still checked statically (test/compose/compose.test.ts).
 */
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseStack } from '../../harness/stack/choose.js';
import { REPO_ROOT } from '../../harness/stack/services.js';

const { stack, note } = await chooseStack();
const onContainers = stack.name === 'containers';

describe.runIf(onContainers)(`the fake-only image (${note})`, () => {
  let env: StartedDockerComposeEnvironment;
  let baseURL: string;
  beforeAll(async () => {
    env = await new DockerComposeEnvironment(REPO_ROOT, 'docker-compose.fake.yml')
      .withBuild()
      .withEnvironment({ HOLDLINE_SCENARIO: 'rate-limit-storm.yaml', HOLDLINE_SPEED: '1' })
      .withWaitStrategy('fake-1', Wait.forHealthCheck())
      .withStartupTimeout(10 * 60_000)
      .up();
    const fake = env.getContainer('fake-1');
    baseURL = `http://${fake.getHost()}:${fake.getMappedPort(4010)}/api/v1`;
  }, 11 * 60_000);
  afterAll(async () => {
    await env?.down();
  }, 60_000);

  it('plays the mounted scenario file: every model rate limited at first', async () => {
    const models = (await (await fetch(`${baseURL}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('meta-llama/llama-3.3-70b-instruct:free');
    const res = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-or-v1-any', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'meta-llama/llama-3.3-70b-instruct:free', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(429);
  });
});
