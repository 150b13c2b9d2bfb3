/**
 * The checks can fail: deliberately broken compose documents and Dockerfiles, fed to the same functions that
 * compose.test.ts runs on the real files, each with the exact problem it must report.
 */
import { describe, expect, it } from 'vitest';
import * as checks from './checks.js';
import { parseCompose, referencesWithoutDefault, withDefaults } from './compose-model.js';
import { dockerfileProblems, dockerignoreProblems } from './dockerfile-checks.js';

const doc = (yaml: string) => parseCompose(yaml, 'broken.yml');

describe('compose checks on broken documents', () => {
  const broken = doc(`
services:
  fake:
    command: [npm, run, fake, --, --port, "4010", --host, 127.0.0.1, --speed, "2"]
    ports: ["4011"]
    healthcheck: { test: [CMD, node, docker/healthcheck.mjs, "http://127.0.0.1:4012/__fake/health"] }
  agent:
    container_name: holdline-agent
    command: [npm, run, agent, --, --rehearsal, --port, "\${AGENT_PORT:-8081}", --speed, "1"]
    environment:
      OPENROUTER_BASE_URL: http://fakee:4010/api/v1
      LOCAL_LLM_BASE_URL: http://llama_cpp:8081/v1
      LOCAL_LLM_MODEL: tiny
      OPENROUTER_KEY: sk-typo
      LLM_MODELS: a,b
    ports: ["8081:8081"]
    depends_on: [fake, llama_cpp]
  llama_cpp:
    profiles: [local-llm]
    command: [--alias, holdline-tiny, --port, "8080", --host, 0.0.0.0]
    expose: ["8080"]
    healthcheck: { test: [CMD, curl, -f, "http://llama_cpp:8080/health"] }
  extra:
    profiles: [local-llm]
    image: busybox
`);

  it('lists the variables the agent does not read', () => {
    expect(checks.unknownEnvVars(broken, 'agent', ['OPENROUTER_BASE_URL', 'LOCAL_LLM_BASE_URL', 'LOCAL_LLM_MODEL'])).toEqual([
      'agent sets environment variables that src/config.ts does not read: OPENROUTER_KEY, LLM_MODELS',
    ]);
  });

  it('reports a profile holding more than llama_cpp, and a dependency on it', () => {
    expect(checks.profileMembers(broken, 'local-llm', ['llama_cpp'])).toEqual([
      'profile "local-llm" holds [extra, llama_cpp], expected exactly [llama_cpp]',
    ]);
    expect(checks.dependsOnProfiled(broken)).toEqual(['agent depends_on llama_cpp, which starts only with --profile local-llm']);
  });

  it('reports missing healthchecks and a dependency that does not wait for health', () => {
    expect(checks.missingHealthchecks(broken)).toEqual(['agent has no healthcheck', 'extra has no healthcheck']);
    expect(checks.dependsOnHealthy(broken, 'agent', 'fake')).toEqual([
      'agent must depend on fake with condition: service_healthy (found: service_started)',
    ]);
  });

  it('reports ports that disagree', () => {
    expect(checks.portProblems(broken)).toEqual([
      'fake listens on 4010 (--port) but publishes/exposes 4011',
      'fake healthcheck probes port 4012 but the service listens on 4010 (--port)',
      'llama_cpp healthcheck probes llama_cpp; a healthcheck runs inside the container: probe 127.0.0.1',
    ]);
  });

  it('reports URLs that name no service or the wrong port', () => {
    expect(checks.urlTargetProblems(broken, 'agent', ['OPENROUTER_BASE_URL', 'LOCAL_LLM_BASE_URL'])).toEqual([
      'agent OPENROUTER_BASE_URL points at host "fakee", which is not a service in this file',
      'agent LOCAL_LLM_BASE_URL points at llama_cpp:8081, but llama_cpp listens on 8080 (--port)',
    ]);
  });

  it('knows the ports of `npm start`: the LiveKit worker health server and HTTP_PORT', () => {
    const worker = doc(`
services:
  agent:
    command: [npm, start]
    environment: { HTTP_PORT: "8082" }
    ports: ["127.0.0.1:8082:8082"]
    healthcheck: { test: [CMD, node, docker/healthcheck.mjs, "http://127.0.0.1:9000/"] }
  caller:
    environment: { LIVEKIT_URL: "ws://agent:8080" }
`);
    expect(checks.portProblems(worker)).toEqual([
      'agent listens on 8081 (LiveKit worker health server) but publishes/exposes 8082',
      'agent healthcheck probes port 9000 but the service listens on 8082 (HTTP_PORT), 8081 (LiveKit worker health server)',
    ]);
    expect(checks.urlTargetProblems(worker, 'caller', ['LIVEKIT_URL'])).toEqual([
      'caller LIVEKIT_URL points at agent:8080, but agent listens on 8082 (HTTP_PORT), 8081 (LiveKit worker health server)',
    ]);
  });

  it('reports a server bound to loopback inside its container', () => {
    expect(checks.bindProblems(broken)).toEqual([
      'fake binds 127.0.0.1 (--host); inside a container bind 0.0.0.0 so other containers and published ports reach it',
    ]);
  });

  it('reports npm scripts that package.json lacks, and npm run without an init', () => {
    expect(checks.npmScriptProblems(broken, { fake: 'tsx fakes/openrouter/main.ts' })).toEqual([
      'agent runs `npm run agent`, but package.json has no "agent" script',
    ]);
    expect(checks.initProblems(broken)).toEqual([
      'fake runs npm without init: true; docker stop would not reach the node process',
      'agent runs npm without init: true; docker stop would not reach the node process',
    ]);
  });

  it('reports what breaks Testcontainers, speeds that differ and a model name llama.cpp does not serve', () => {
    expect(checks.testcontainersProblems(broken)).toEqual([
      'fake publishes "4011" on every interface; publish "127.0.0.1::4011" so only this machine reaches it',
      'agent sets container_name "holdline-agent"; a fixed name collides between test runs',
      'agent publishes fixed host port "8081:8081"; publish "127.0.0.1::8081" so Testcontainers maps a free one',
    ]);
    expect(checks.flagAgreement(broken, '--speed')).toEqual(['--speed differs between services: fake=2, agent=1']);
    expect(checks.aliasProblems(broken, 'agent', 'llama_cpp')).toEqual(['agent LOCAL_LLM_MODEL is "tiny" but llama_cpp serves --alias "holdline-tiny"']);
  });

  it('reports secrets written into the file instead of read from .env', () => {
    expect(checks.secretProblems(broken, 'agent')).toEqual([
      'agent must read its secrets from env_file .env',
      'agent sets OPENROUTER_KEY in the compose file; secrets belong in .env',
    ]);
  });

  it('reads ${VAR:-default} as its default and finds references without one', () => {
    expect(withDefaults('${A:-x}:${B-y}:${C}:$D:$$E')).toBe('x:y:::$E');
    expect(referencesWithoutDefault({ a: '${A:-1}', b: ['${B}', { c: '$C', d: '$$D', e: '${E:?set E}' }] })).toEqual(['B', 'C']);
  });

  it('names the file when there is no services map', () => {
    expect(() => parseCompose('version: "3"\n', 'empty.yml')).toThrow('empty.yml: expected a top-level "services" map');
  });
});

describe('Dockerfile checks on broken files', () => {
  it('reports the wrong base, npm install, a baked secret, root and no HEALTHCHECK', () => {
    const dockerfile = [
      'FROM node:22 AS deps',
      'RUN npm install',
      'FROM node:20-bookworm-slim',
      'ENV OPENROUTER_API_KEY=sk-or-real \\',
      '    HTTP_PORT=8081',
      'ARG NPM_TOKEN',
      'USER root',
      'CMD ["npm", "start"]',
    ].join('\n');
    expect(dockerfileProblems(dockerfile)).toEqual([
      'stage 1 is FROM node:22; expected node:20-bookworm-slim',
      'no RUN npm ci: dependencies must come from the lockfile',
      'RUN npm install: use npm ci, which installs exactly the lockfile',
      'ENV OPENROUTER_API_KEY bakes a secret into the image; pass it at run time (env_file)',
      'ARG NPM_TOKEN bakes a secret into the image; pass it at run time (env_file)',
      'the final stage runs as root (USER root)',
      'the final stage has no HEALTHCHECK',
    ]);
    expect(dockerfileProblems('FROM node:20-bookworm-slim\nRUN npm ci\nHEALTHCHECK CMD ["node", "x"]\n')).toEqual([
      'the final stage has no USER: the container would run as root',
    ]);
  });

  it('reports a .dockerignore that lets .env and node_modules in', () => {
    expect(dockerignoreProblems('# nothing\n.git\n')).toEqual([
      '.dockerignore does not exclude .env: `COPY . .` would bake secrets into the image',
      '.dockerignore does not exclude node_modules: the image must install its own with npm ci',
    ]);
  });
});
