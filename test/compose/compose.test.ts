/**
 * Keeps docker-compose.yml, docker-compose.test.yml and the Dockerfile honest. No Docker engine runs on these
 * machines, so this is what stands between a typo and a broken `docker compose up`: the files are parsed and
 * checked against the agent's configuration schema, package.json and each other.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_VARS } from '../../src/config.js';
import {
  aliasProblems,
  bindProblems,
  dependsOnHealthy,
  dependsOnProfiled,
  flagAgreement,
  initProblems,
  missingHealthchecks,
  npmScriptProblems,
  portProblems,
  profileMembers,
  secretProblems,
  testcontainersProblems,
  unknownEnvVars,
  urlTargetProblems,
} from './checks.js';
import { commandArgs, flagValue, healthcheckArgs, healthcheckUrl, npmScript, parseCompose, referencesWithoutDefault } from './compose-model.js';
import { defaultCommand, dockerfileProblems, dockerignoreProblems, healthcheckCommand } from './dockerfile-checks.js';
import { tempDir } from '../kit/temp.js';

const root = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const prod = parseCompose(read('docker-compose.yml'), 'docker-compose.yml');
const rig = parseCompose(read('docker-compose.test.yml'), 'docker-compose.test.yml');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const URL_VARS = ['LOCAL_LLM_BASE_URL', 'OPENROUTER_BASE_URL', 'LIVEKIT_URL', 'STT_BASE_URL', 'TTS_BASE_URL'];
const GRAMMAR = 'root ::= "The local model is answering."';

describe.each([
  ['docker-compose.yml', prod],
  ['docker-compose.test.yml', rig],
])('%s', (_file, doc) => {
  it('sets on the agent only variables that src/config.ts reads', () => {
    expect(unknownEnvVars(doc, 'agent', CONFIG_ENV_VARS)).toEqual([]);
  });

  it('listens, publishes and probes on the same port in every service', () => {
    expect(portProblems(doc)).toEqual([]);
  });

  it("points the agent's URLs at real services and their ports", () => {
    expect(urlTargetProblems(doc, 'agent', URL_VARS)).toEqual([]);
  });

  it('binds 0.0.0.0 inside every container', () => {
    expect(bindProblems(doc)).toEqual([]);
  });

  it('runs only npm scripts that package.json has, each under an init that signals node', () => {
    expect(npmScriptProblems(doc, scripts)).toEqual([]);
    expect(initProblems(doc)).toEqual([]);
  });

  it('asks llama.cpp for the model name it serves', () => {
    expect(aliasProblems(doc, 'agent', 'llama_cpp')).toEqual([]);
  });

  it('gives every ${VAR} a default (or a :? message), never a silent empty string', () => {
    expect(referencesWithoutDefault(doc)).toEqual([]);
  });

  it('runs healthcheck scripts that exist in the repository (and so in the image)', () => {
    const scriptsRun = Object.values(doc.services)
      .map(healthcheckArgs)
      .filter((args) => args?.[0] === 'node')
      .map((args) => args?.[1] ?? '');
    expect(scriptsRun.filter((file) => !existsSync(join(root, file)))).toEqual([]);
  });
});

describe('docker-compose.yml (production)', () => {
  it('puts exactly llama_cpp behind the local-llm profile, and nothing that always starts depends on it', () => {
    expect(profileMembers(prod, 'local-llm', ['llama_cpp'])).toEqual([]);
    expect(dependsOnProfiled(prod)).toEqual([]);
    expect(prod.services.agent?.depends_on).not.toHaveProperty('llama_cpp');
  });

  it('puts kokoro and nemotron behind local-speech, each with a healthcheck, and the agent waits for them only when they run', () => {
    expect(profileMembers(prod, 'local-speech', ['kokoro', 'nemotron'])).toEqual([]);
    expect(missingHealthchecks({ services: { kokoro: prod.services.kokoro ?? {}, nemotron: prod.services.nemotron ?? {} } })).toEqual([]);
    expect(dependsOnHealthy(prod, 'agent', 'kokoro')).toEqual([]);
    expect(dependsOnHealthy(prod, 'agent', 'nemotron')).toEqual([]);
    expect(prod.services.agent?.depends_on).toMatchObject({ kokoro: { required: false }, nemotron: { required: false } });
  });

  it("points the agent's speech at kokoro and nemotron by default, a cloud endpoint one variable away", () => {
    const raw = parse(read('docker-compose.yml')) as { services: { agent: { environment: Record<string, string> } } };
    expect(raw.services.agent.environment).toMatchObject({
      STT_BASE_URL: '${STT_BASE_URL:-http://nemotron:9000/v1}',
      TTS_BASE_URL: '${TTS_BASE_URL:-http://kokoro:8880/v1}',
    });
    // A .env made from the example must not point compose at the cloud unasked.
    expect(read('.env.example')).not.toMatch(/^(STT|TTS)_BASE_URL=/m);
  });

  it('pins the speech images', () => {
    for (const service of ['kokoro', 'nemotron']) {
      // A version tag (the default of `${X_IMAGE:-...}`), not latest.
      expect(prod.services[service]?.image, service).toMatch(/:v?\d[\w.-]*\}?$/);
    }
  });

  it('reads the agent secrets from .env and sets none in the file', () => {
    expect(secretProblems(prod, 'agent')).toEqual([]);
  });

  it('runs the production worker with LiveKit and the local model at their container addresses', () => {
    expect(npmScript(commandArgs(prod.services.agent ?? {}))).toBe('start');
    expect(prod.services.agent?.environment).toMatchObject({
      LIVEKIT_URL: 'ws://livekit:7880',
      LOCAL_LLM_BASE_URL: 'http://llama_cpp:8080/v1',
    });
  });

  it("probes the LiveKit worker's own health server, which answers whether or not a call is running", () => {
    const url = healthcheckUrl(prod.services.agent ?? {});
    expect(url?.port).toBe('8081');
    expect(url?.pathname).toBe('/');
  });

  it('serves Qwen3-4B-Instruct from --hf-repo with alias and context size overridable by ${VAR:-default}', () => {
    const raw = (prod.services.llama_cpp?.command ?? []) as string[];
    for (const flag of ['--hf-repo', '--alias', '--ctx-size']) {
      expect(flagValue(raw, flag), flag).toMatch(/^\$\{[A-Z_]+:-[^}]+\}$/);
    }
    expect(flagValue(commandArgs(prod.services.llama_cpp ?? {}), '--hf-repo')).toMatch(/Qwen3-4B-Instruct.*GGUF/);
  });
});

describe.each([
  ['docker-compose.yml', prod],
  ['docker-compose.test.yml', rig],
])('%s: redis for a fleet', (_file, doc) => {
  it('puts exactly redis behind the redis profile, nothing depends on it, and it answers its healthcheck with redis-cli', () => {
    expect(profileMembers(doc, 'redis', ['redis'])).toEqual([]);
    expect(dependsOnProfiled(doc)).toEqual([]);
    expect(healthcheckArgs(doc.services.redis ?? {})).toEqual(['redis-cli', '-p', '6379', 'ping']);
  });

  it('keeps nothing on disk, so a restart comes back empty', () => {
    const args = commandArgs(doc.services.redis ?? {});
    expect(flagValue(args, '--save')).toBe('');
    expect(flagValue(args, '--appendonly')).toBe('no');
    expect((doc.services.redis as Record<string, unknown> | undefined)?.volumes).toBeUndefined();
  });
});

describe('docker-compose.test.yml (the rig)', () => {
  it('has a healthcheck on every service and starts the agent once the fake listens', () => {
    expect(Object.keys(rig.services).sort()).toEqual(['agent', 'fake', 'llama_cpp', 'redis']);
    expect(missingHealthchecks(rig)).toEqual([]);
    // After the fake's container, and its node only once the fake's port answers (docker/when-listening.sh).
    expect(rig.services.agent?.depends_on).toMatchObject({ fake: { condition: 'service_started' } });
    expect(commandArgs(rig.services.agent ?? {}).slice(0, 5)).toEqual(['bash', 'docker/when-listening.sh', 'fake', flagValue(commandArgs(rig.services.fake ?? {}), '--port'), '--']);
    expect(dependsOnHealthy(rig, 'agent', 'llama_cpp')).toEqual([]);
  });

  it("runs the fake and the agent with node on the JavaScript the image compiles from sources that exist", () => {
    // docker/compile.mjs writes each .ts's .js beside it in the image; the checkout has only the .ts.
    const entries = ['fake', 'agent'].map((name) => commandArgs(rig.services[name] ?? {})).map((args) => args[args.indexOf('node') + 1] ?? '');
    expect(entries).toEqual(['fakes/openrouter/cli.js', 'src/main.js']);
    expect(entries.filter((file) => !existsSync(join(root, file.replace(/\.js$/, '.ts'))))).toEqual([]);
    expect(read('Dockerfile')).toMatch(/^RUN node docker\/compile\.mjs$/m);
  });

  it('suits Testcontainers: no fixed container names or host ports, and publishes on loopback only', () => {
    expect(testcontainersProblems(rig)).toEqual([]);
  });

  it('points the agent at the fake with a dummy key, in rehearsal mode', () => {
    const agent = rig.services.agent ?? {};
    expect(agent.environment).toMatchObject({ OPENROUTER_BASE_URL: 'http://fake:4010/api/v1' });
    expect(String((agent.environment as Record<string, string>).OPENROUTER_API_KEY)).toMatch(/dummy/);
    expect(commandArgs(agent)).toContain('--rehearsal');
  });

  it('plays the scenario named by HOLDLINE_SCENARIO, at one --speed for fake and agent', () => {
    const raw = (rig.services.fake?.command ?? []) as string[];
    expect(flagValue(raw, '--scenario')).toBe('${HOLDLINE_SCENARIO:-rate-limit-storm}');
    expect(existsSync(join(root, 'scenarios', `${flagValue(commandArgs(rig.services.fake ?? {}), '--scenario')}.yaml`))).toBe(true);
    expect(flagAgreement(rig, '--speed')).toEqual([]);
  });

  it('serves the tiny model from the host cache with the grammar that fixes its answer', () => {
    const llama = rig.services.llama_cpp ?? {};
    expect(flagValue(commandArgs(llama), '--grammar')).toBe(GRAMMAR);
    expect(flagValue(commandArgs(llama), '-m')).toMatch(/^\/models\/tiny-llama-seed\d+\.gguf$/);
    expect((llama as { volumes?: string[] }).volumes).toContain('${HOLDLINE_CACHE_DIR:-~/.cache/holdline}/models:/models:ro');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds from node:20-bookworm-slim with npm ci, runs as non-root, bakes in no secret, has a HEALTHCHECK', () => {
    expect(dockerfileProblems(dockerfile)).toEqual([]);
    expect(dockerignoreProblems(read('.dockerignore'))).toEqual([]);
  });

  it('starts an npm script that exists and probes with a script that exists', () => {
    const script = npmScript(defaultCommand(dockerfile));
    expect(script).toBe('start');
    expect(scripts).toHaveProperty(script ?? '');
    const [node, file] = healthcheckCommand(dockerfile);
    expect(node).toBe('node');
    expect(existsSync(join(root, file ?? ''))).toBe(true);
  });
});

/** `docker compose config -q` validates a file against the Compose spec without an engine, when the plugin exists. */
const composePlugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const hasCompose = composePlugin.status === 0;
const scratch = tempDir('compose');

describe.skipIf(!hasCompose)(
  `docker compose config -q${hasCompose ? '' : ' (skipped: no docker compose v2 plugin on this machine)'}`,
  () => {
    it.each(['docker-compose.yml', 'docker-compose.test.yml'])('accepts %s', (file) => {
      // A scratch project dir with a .env of its own: env_file must exist, the LiveKit keys are required,
      // and the real .env holds secrets.
      const dir = join(scratch, file.replace(/\.yml$/, ''));
      mkdirSync(dir);
      copyFileSync(join(root, file), join(dir, file));
      writeFileSync(join(dir, '.env'), 'LIVEKIT_API_KEY=devkey\nLIVEKIT_API_SECRET=secret\n');
      const result = spawnSync('docker', ['compose', '-f', join(dir, file), '--profile', 'local-llm', '--profile', 'local-speech', 'config', '-q'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });
  },
);

describe('docker-compose.fake.yml and Dockerfile.fake (the fake alone)', () => {
  const fakeOnly = parseCompose(read('docker-compose.fake.yml'), 'docker-compose.fake.yml');
  const dockerfile = read('Dockerfile.fake');

  it('builds a non-root image with a healthcheck from the packed tarball, dependencies locked in the build stage', () => {
    // The runtime stage installs the tarball as users do (npm install -g); the build stage uses npm ci.
    expect(dockerfileProblems(dockerfile).filter((p) => !/^RUN .*npm install --global .*holdline-fake\.tgz/.test(p))).toEqual([]);
    expect(dockerfile).toMatch(/packages\/pack\.ts/);
    // Both npm steps trust a TLS-intercepting proxy's CA through the build secret, never a layer.
    expect(dockerfile.match(/RUN --mount=type=secret,id=host_ca/g)).toHaveLength(2);
  });

  it('serves on 4010 on every interface, with the scenarios mounted where the image reads them', () => {
    const service = fakeOnly.services.fake ?? {};
    expect(Object.keys(fakeOnly.services)).toEqual(['fake']);
    expect((service as { volumes?: unknown }).volumes).toEqual(['./scenarios:/scenarios:ro']);
    expect(dockerfile).toMatch(/^WORKDIR \/scenarios$/m);
    expect(dockerfile).toMatch(/ENTRYPOINT \["holdline-fake", "--host", "0\.0\.0\.0", "--port", "4010"\]/);
    expect(missingHealthchecks(fakeOnly)).toEqual([]);
    expect(testcontainersProblems(fakeOnly)).toEqual([]);
    expect(referencesWithoutDefault(fakeOnly)).toEqual([]);
    expect(healthcheckArgs(service)?.join(' ')).toContain('http://127.0.0.1:4010/__fake/health');
  });
});
