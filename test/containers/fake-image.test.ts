/**
 * The fake-only image (Dockerfile.fake, docker-compose.fake.yml) in a real Docker engine: built from the packed
 * tarball, serving a scenario from the mounted ./scenarios, healthy, and answering as the scenario says. Runs
 * where the e2e tests run on containers (E2E_STACK=containers, or auto with an engine); E2E_STACK=containers
 * without an engine fails here as it does there. Where no engine answers, docker-compose.fake.yml and
 * Dockerfile.fake are still checked statically (test/compose/compose.test.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { exclusive } from '../kit/exclusive.js';
import { engineTests } from '../kit/containers.js';
import { tempDir } from '../kit/temp.js';
import { REPO_ROOT } from '../../harness/stack/services.js';
import { buildCaOverride } from '../../harness/stack/compose-override.js';

const engine = await engineTests();
const scratch = tempDir('fake-image');

describe.runIf(engine.run)(`the fake-only image (${engine.why})`, () => {
  // The build (npm ci, tsc) holds the rehearsal lock for the containers' whole life, like production.test.ts: beside
  // a timed rehearsal it would steal the CPU that rehearsal's verdict depends on.
  it('plays the mounted scenario file: every model rate limited at first', { timeout: 11 * 60_000 }, async () => {
    await exclusive(async () => {
      let env: StartedDockerComposeEnvironment | undefined;
      try {
        env = await new DockerComposeEnvironment(REPO_ROOT, ['docker-compose.fake.yml', ...caOverride()])
          .withBuild()
          .withEnvironment({ HOLDLINE_SCENARIO: 'rate-limit-storm.yaml', HOLDLINE_SPEED: '1' })
          .withWaitStrategy('fake-1', Wait.forHealthCheck())
          .withStartupTimeout(10 * 60_000)
          .up();
        // Published on the engine host's loopback only (docker-compose.fake.yml), as the rig's services are.
        const baseURL = `http://127.0.0.1:${env.getContainer('fake-1').getMappedPort(4010)}/api/v1`;
        const models = (await (await fetch(`${baseURL}/models`)).json()) as { data: { id: string }[] };
        expect(models.data.map((m) => m.id)).toContain('meta-llama/llama-3.3-70b-instruct:free');
        const res = await fetch(`${baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer sk-or-v1-any', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'meta-llama/llama-3.3-70b-instruct:free', messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(res.status).toBe(429);
      } finally {
        await env?.down();
      }
    });
  });
});

/** Behind a TLS-intercepting proxy the image's npm must trust the host's CA: an override file passing it as a build secret. */
function caOverride(): string[] {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (!ca || !existsSync(ca)) return [];
  const file = join(scratch, 'ca.override.yml');
  writeFileSync(file, buildCaOverride(REPO_ROOT, ca, ['fake']));
  return [file];
}
