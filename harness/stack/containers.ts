/**
 * The container stack: docker-compose.test.yml under Testcontainers (the agent and the fake built from the
 * Dockerfile, llama.cpp's own server image with the tiny model), with a per-scenario override for the agent's
 * environment. Each run is its own compose project with free host ports; `stop()` takes it down. A container
 * that stops mid-rehearsal is reported like a crashed process. Its commands, its wait and its failure go
 * through the process kit (tools/kit) as on the process stack: the same progress lines, the same StartError.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { loadTestcontainers, TESTCONTAINERS_MISSING, type Testcontainers } from './testcontainers.js';
import { SCENARIO_DIR } from '../../contract/scenario/library.js';
import { ensureTinyModel } from '../../tools/llama/model.js';
import { cacheRoot } from '../../tools/llama/paths.js';
import { redactor, secretsOf } from './agent-env.js';
import { buildCaOverride, composeOverride } from './compose-override.js';
import { exec } from '../../tools/kit/run-command.js';
import { stillWaiting } from '../../tools/kit/service.js';
import { StartError } from '../../tools/kit/start-error.js';
import { REPO_ROOT } from './services.js';
import { fleetProblem, type RunningStack, type ServiceFailure, type Stack, type StartRequest } from './stack.js';

const COMPOSE_FILE = 'docker-compose.test.yml';
/** The first build of the image can take minutes; later ones hit the layer cache. */
const STARTUP_TIMEOUT_MS = 10 * 60_000;
const WATCH_EVERY_MS = 1_000;
/** The key docker-compose.test.yml gives the agent (a dummy too, but never printed either). */
const COMPOSE_DUMMY_KEY = 'sk-or-v1-holdline-test-dummy';
const SERVICES = { agent: 'the agent container', fake: 'the fake OpenRouter container', llama_cpp: 'the llama.cpp container' } as const;

export function containerStack(): Stack {
  return { name: 'containers', virtual: false, start: startContainers };
}

async function startContainers(request: StartRequest): Promise<RunningStack> {
  // The module and its dependencies live on the host; the agent's image has neither.
  if (request.agentModule) throw new StartError('--agent runs on the process stack only (child processes on this machine)');
  const { scenario, scenarioFile, speed, progress, signal } = request;
  const fleet = fleetProblem(scenario, 'containers');
  if (fleet) throw new StartError(fleet);
  const testcontainers = await loadTestcontainers();
  if (!testcontainers) throw new StartError(`the container stack needs testcontainers: ${TESTCONTAINERS_MISSING}`);
  const { DockerComposeEnvironment, Wait, getContainerRuntimeClient } = testcontainers;
  const model = await ensureTinyModel();
  const dir = mkdtempSync(join(tmpdir(), 'holdline-compose-'));
  const override = composeOverride(scenario, resolve(scenarioFile), resolve(dirname(scenarioFile)) === SCENARIO_DIR);
  const files = [COMPOSE_FILE, join(dir, 'scenario.override.yml')];
  writeFileSync(files[1] as string, override.yaml);
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (ca && existsSync(ca)) {
    files.push(join(dir, 'build-ca.override.yml'));
    writeFileSync(files[2] as string, buildCaOverride(REPO_ROOT, ca));
  }
  // Compose would read the checkout's .env (the user's own configuration) for ${VAR}s; a rehearsal must not.
  const envFile = join(dir, 'empty.env');
  writeFileSync(envFile, '');
  // Named by us, so that a failed `up` (which Testcontainers does not take down) can be taken down here.
  const project = `holdline-${randomUUID().slice(0, 8)}`;
  const environment = {
    HOLDLINE_SCENARIO: override.scenarioRef,
    HOLDLINE_SPEED: String(speed),
    HOLDLINE_CACHE_DIR: cacheRoot(),
    HOLDLINE_TINY_MODEL: basename(model.path),
  };
  const down = async () => {
    await exec('docker', ['compose', '-p', project, ...files.flatMap((f) => ['-f', f]), '--env-file', envFile, 'down', '-v', '--timeout', '5'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...environment },
    });
    rmSync(dir, { recursive: true, force: true });
  };

  progress(`docker compose: building the image and starting ${COMPOSE_FILE} for ${scenario.name} (project ${project})`);
  let env: StartedDockerComposeEnvironment;
  const waited = stillWaiting(`the containers of ${COMPOSE_FILE}`, progress);
  try {
    env = await new DockerComposeEnvironment(REPO_ROOT, files)
      .withProjectName(project)
      .withBuild()
      .withEnvironmentFile(envFile)
      .withEnvironment(environment)
      .withWaitStrategy('agent-1', Wait.forHealthCheck())
      .withWaitStrategy('fake-1', Wait.forHealthCheck())
      .withWaitStrategy('llama_cpp-1', Wait.forHealthCheck())
      .withStartupTimeout(STARTUP_TIMEOUT_MS)
      .up();
  } catch (error) {
    await down();
    if (signal?.aborted) throw signal.reason;
    throw new StartError(`docker compose could not start ${COMPOSE_FILE}: ${(error as Error).message}`);
  } finally {
    waited();
  }
  if (signal?.aborted) {
    await down();
    throw signal.reason;
  }

  // docker-compose.test.yml publishes on the engine host's 127.0.0.1 only, so that is where it is reached (a local
  // engine, Docker Desktop included). Not getHost(): on a machine it takes for a container, Testcontainers
  // names the bridge's gateway, where nothing is published.
  const urlOf = (name: string, port: number) => `http://127.0.0.1:${env.getContainer(name).getMappedPort(port)}`;
  const watch = watchContainers(env, redactor([...secretsOf(scenario), COMPOSE_DUMMY_KEY]), getContainerRuntimeClient);
  let stopped: Promise<void> | undefined;
  return {
    fakeUrl: urlOf('fake-1', 4010),
    agentUrl: urlOf('agent-1', 8081),
    pids: {},
    crashed: watch.crashed,
    stop() {
      stopped ??= (async () => {
        watch.stop();
        await env.down({ removeVolumes: true }).catch(() => {});
        // Without Ryuk nothing else would remove them: make sure containers and network are gone.
        await down();
      })();
      return stopped;
    },
  };
}

/** Polls the containers' state: the first one found stopped is the crash. */
function watchContainers(
  env: StartedDockerComposeEnvironment,
  redact: (line: string) => string,
  getContainerRuntimeClient: Testcontainers['getContainerRuntimeClient'],
): { crashed: Promise<ServiceFailure>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const crashed = new Promise<ServiceFailure>((resolveCrash) => {
    timer = setInterval(() => {
      void (async () => {
        const client = await getContainerRuntimeClient();
        for (const [service, label] of Object.entries(SERVICES)) {
          const started = env.getContainer(`${service}-1`);
          const container = client.container.getById(started.getId());
          const { State } = await client.container.inspect(container);
          if (State.Running) continue;
          clearInterval(timer);
          resolveCrash({ service: label, how: `with code ${State.ExitCode}`, output: (await tail(started)).map(redact) });
          return;
        }
      })().catch(() => {});
    }, WATCH_EVERY_MS);
  });
  return { crashed, stop: () => clearInterval(timer) };
}

async function tail(container: ReturnType<StartedDockerComposeEnvironment['getContainer']>): Promise<string[]> {
  const stream = await container.logs({ tail: 20 });
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer | string) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  await new Promise((done) => {
    stream.on('end', done);
    setTimeout(done, 2_000);
  });
  return lines;
}
