/**
 * The container stack: docker-compose.test.yml under Testcontainers (the agent and the fake on the rig's image, built
 * from the Dockerfile once per run: rig-image.ts; llama.cpp's own server image with the tiny model), with a
 * per-scenario override for the agent's environment. Each run is its own compose project with free host ports;
 * `stop()` takes it down. A container
 * that stops mid-rehearsal is reported like a crashed process. Its commands, its wait and its failure go
 * through the process kit (tools/kit) as on the process stack: the same progress lines, the same StartError.
 *
 * A fleet (`calls: N`) is N agent containers (compose `scale`), one per call as LiveKit runs one process per job:
 * each its own published port, its own crash, its own start in `docker ps`. With `agent.redis` the `redis` profile
 * starts the rig's redis service and every agent gets its address; `agent.redis.down` is `docker kill` (a crash)
 * and `docker start` of that container, on the same name on the compose network, empty (no persistence).
 *
 * On virtual time (`virtual: true`) the fake and every agent container join the runner's clock, as on the process
 * stack, and the runner reaches them at their addresses on the compose network, never through a published port:
 * Docker's userland proxy behind a published port is a process on no clock, and the coordinator pairs the two
 * ends of every connection by address and port (contract/time/crossings.ts), which only holds with nothing in
 * between. The host reaches a Linux bridge network directly; the published ports stay for people and health.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { basename, dirname, join, resolve } from 'node:path';
import type { StartedDockerComposeEnvironment } from 'testcontainers';
import { loadTestcontainers, TESTCONTAINERS_MISSING, type Testcontainers } from './testcontainers.js';
import { SCENARIO_DIR } from '../../contract/scenario/library.js';
import { ensureTinyModel } from '../../tools/llama/model.js';
import { cacheRoot } from '../../tools/llama/paths.js';
import { redactor, secretsOf } from './agent-env.js';
import { agentContainers, agentServices, CLOCK_HOST, COMPOSE_REDIS_URL, composeOverride, REDIS_PROFILE } from './compose-override.js';
import { rigImage } from './rig-image.js';
import { CLOCK_TOKEN_ENV } from '../../contract/time/shared-clock.js';
import { crashOrClockFailure, participantNames, startStackClock, startWhenJoined, type StackClock } from './stack-clock.js';
import { exec } from '../../tools/kit/run-command.js';
import { killQuietly, whenGone } from '../../tools/kit/processes.js';
import { stillWaiting } from '../../tools/kit/service.js';
import { StartError } from '../../tools/kit/start-error.js';
import { REPO_ROOT } from './services.js';
import { bridgeGateway, type BridgeIpam } from './bridge-gateway.js';
import { namedWait, type WaitedContainer } from './named-wait.js';
import type { RedisControl, RunningStack, ServiceFailure, Stack, StartRequest } from './stack.js';

const COMPOSE_FILE = 'docker-compose.test.yml';
/**
 * From `compose up` to every service ready (the image is built before: rig-image.ts). Generous: a fleet starts ten
 * agents on a 2-core machine that may be busy with other work.
 */
const STARTUP_TIMEOUT_MS = 5 * 60_000;
/**
 * What each service prints once it listens (fakes/openrouter/cli.ts, src/rehearsal): the harness waits for these
 * lines, streamed from Docker as they come, rather than for a healthcheck that runs every 2 s at best (dockerd 20.10
 * has no start_interval). A container that exits first ends its log stream, and the start fails at once.
 */
const FAKE_LISTENING = /^OPENROUTER_BASE_URL=/;
const AGENT_LISTENING = /rehearsal agent listening/;
/** Stop timeout of the `down` after a rehearsal (s): its result is in; the fake and the agent exit on SIGTERM at once. */
const DOWN_TIMEOUT_S = 2;
/** Wall ms `compose down` may take: a wedged engine must not hang the runner's exit (the guard tries again after it). */
const DOWN_WITHIN_MS = 60_000;
const WATCH_EVERY_MS = 1_000;
/** The key docker-compose.test.yml gives the agent (a dummy too, but never printed either). */
const COMPOSE_DUMMY_KEY = 'sk-or-v1-holdline-test-dummy';
/** How long a restarted redis container may take to answer PING. */
const REDIS_READY_TIMEOUT_MS = 15_000;
const REDIS_POLL_MS = 100;
/**
 * Wall ms for every container to be on the runner's clock once Compose says they are healthy: each joins before
 * it listens (src/main.ts, fakes/openrouter/cli.ts), so by then all have; this only bounds a bug.
 */
const JOIN_WITHIN_MS = 30_000;

/**
 * @param options.virtual the runner, the fake and every agent container share one virtual clock that skips idle
 *   time (contract/time/shared-clock.ts), as `processStack({ virtual: true })`, instead of wall time times the speed.
 */
export function containerStack(options: { virtual?: boolean } = {}): Stack {
  const virtual = options.virtual === true;
  return { name: 'containers', virtual, start: (request) => startContainers(request, virtual) };
}

async function startContainers(request: StartRequest, virtual: boolean): Promise<RunningStack> {
  // The module and its dependencies live on the host; the agent's image has neither.
  if (request.agentModule) throw new StartError('--agent runs on the process stack only (child processes on this machine)');
  const testcontainers = await loadTestcontainers();
  if (!testcontainers) throw new StartError(`the container stack needs testcontainers: ${TESTCONTAINERS_MISSING}`);
  const model = await ensureTinyModel();
  const image = await rigImage(REPO_ROOT, request.progress, request.signal);
  const clock = virtual ? await clockForContainers(request.scenario, testcontainers.getContainerRuntimeClient) : undefined;
  try {
    return await startOnClock(request, virtual, testcontainers, model, image, clock);
  } catch (error) {
    // Whatever failed before compose took over (a temp dir, the override), the clock's port must not stay open.
    await clock?.coordinator.stop();
    throw error;
  }
}

async function startOnClock(
  request: StartRequest,
  virtual: boolean,
  testcontainers: NonNullable<Awaited<ReturnType<typeof loadTestcontainers>>>,
  model: Awaited<ReturnType<typeof ensureTinyModel>>,
  image: string,
  clock: Awaited<ReturnType<typeof clockForContainers>> | undefined,
): Promise<RunningStack> {
  const { scenario, scenarioFile, speed, progress, signal } = request;
  const { DockerComposeEnvironment, Wait, getContainerRuntimeClient } = testcontainers;
  const dir = mkdtempSync(join(tmpdir(), 'holdline-compose-'));
  const composeClock = clock && { port: Number(clock.address.slice(clock.address.lastIndexOf(':') + 1)), composeFile: join(REPO_ROOT, COMPOSE_FILE) };
  const override = composeOverride(scenario, resolve(scenarioFile), resolve(dirname(scenarioFile)) === SCENARIO_DIR, image, composeClock);
  const files = [COMPOSE_FILE, join(dir, 'scenario.override.yml')];
  writeFileSync(files[1] as string, override.yaml);
  // Compose would read the checkout's .env (the user's own configuration) for ${VAR}s; a rehearsal must not.
  const envFile = join(dir, 'empty.env');
  writeFileSync(envFile, '');
  // Named by us, so that a failed `up` (which Testcontainers does not take down) can be taken down here.
  const project = `holdline-${randomUUID().slice(0, 8)}`;
  const withRedis = scenario.agent.redis !== false;
  const profiles = withRedis ? ['--profile', REDIS_PROFILE] : [];
  const calls = scenario.calls;
  // Compose names the containers of a scaled service agent-1 .. agent-N; one call is agent-1.
  const agents = agentContainers(calls, virtual);
  // llama.cpp only where the scenario uses the local model (elsewhere the agent gets CLOSED_LOCAL_URL).
  const local = scenario.agent.local;
  const services = ['fake', ...agentServices(calls, virtual), ...(local ? ['llama_cpp'] : []), ...(withRedis ? ['redis'] : [])];
  const environment = {
    HOLDLINE_SCENARIO: override.scenarioRef,
    HOLDLINE_SPEED: String(speed),
    HOLDLINE_CACHE_DIR: cacheRoot(),
    HOLDLINE_TINY_MODEL: basename(model.path),
    // For the override's ${HOLDLINE_CLOCK_TOKEN}: the secret reaches the containers' environment only.
    ...(clock && { [CLOCK_TOKEN_ENV]: clock.coordinator.token }),
  };
  // What no output shown may carry: the scenario's secrets, the compose file's dummy key, the clock's token.
  const redact = redactor([...secretsOf(scenario), COMPOSE_DUMMY_KEY, ...(clock ? [clock.coordinator.token] : [])]);
  const composeArgs = ['compose', '-p', project, ...files.flatMap((f) => ['-f', f]), '--env-file', envFile, ...profiles];
  const composeEnv = { ...process.env, ...environment };
  const downArgs = [...composeArgs, 'down', '-v', '--timeout', String(DOWN_TIMEOUT_S)];
  // Before anything starts: the project goes down even if the runner dies without taking it down itself (a second
  // Ctrl-C, SIGKILL, an OOM kill). Containers do not die with it, and Ryuk is off here (no registry for its image):
  // nothing else would remove them, and they would pile up on a shared engine until its address pools ran out.
  const guard = whenGone(['docker', ...downArgs], { cwd: REPO_ROOT, env: composeEnv, detached: true });
  const composeDown = () => exec('docker', downArgs, { cwd: REPO_ROOT, env: composeEnv, timeoutMs: DOWN_WITHIN_MS });
  const down = async () => {
    const result = await composeDown();
    // Called off only once the project is down: a down that failed is the guard's to try again when the runner exits.
    if (result.code === 0 && guard.pid !== undefined) killQuietly(guard.pid, 'SIGKILL');
    else progress(`docker compose down of ${project} failed (${result.timedOut ? 'timed out' : `exit ${result.code}`}): ${result.tail.slice(-3).join(' | ')}`);
    rmSync(dir, { recursive: true, force: true });
    await clock?.coordinator.stop();
  };
  /**
   * The project's containers that exited, each with its last log lines (exited containers keep their logs until
   * `down`): what a failed start says, since Testcontainers names none (a wait's "log stream ended", or a container
   * that exited before `up` mapped the running ones, silently absent).
   */
  const exitedWithWords = async (): Promise<string[]> => {
    const ps = await exec('docker', [...composeArgs, 'ps', '-a', '--status', 'exited', '--format', '{{.Name}}'], { cwd: REPO_ROOT, env: composeEnv, timeoutMs: 10_000 });
    const said: string[] = [];
    for (const name of ps.stdout.split('\n').filter(Boolean).sort()) {
      const logs = await exec('docker', ['logs', '--tail', '20', name], { env: composeEnv, timeoutMs: 10_000 });
      said.push(`${name.slice(project.length + 1)} exited; its last output:\n${logs.tail.map((line) => `  | ${redact(line)}`).join('\n')}`);
    }
    return said;
  };

  const fleetNote = calls > 1 ? `, ${calls} agent containers (one per call)` : '';
  const clockNote = clock ? `, on the runner's virtual time (clock at ${clock.address}, ${CLOCK_HOST} in the containers)` : '';
  progress(`docker compose: starting ${COMPOSE_FILE} for ${scenario.name} on ${image}${fleetNote}${local ? ', llama.cpp' : ''}${withRedis ? ', redis' : ''}${clockNote} (project ${project})`);
  let env: StartedDockerComposeEnvironment;
  const waited = stillWaiting(`the containers of ${COMPOSE_FILE}`, progress);
  // Ctrl-C while compose starts (its waits run up to STARTUP_TIMEOUT_MS): taking the project down ends them now.
  const onAbort = () => void composeDown(); // the start's own catch then takes down whatever came up meanwhile
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let compose = new DockerComposeEnvironment(REPO_ROOT, files)
      .withProjectName(project)
      .withEnvironmentFile(envFile)
      .withEnvironment(environment)
      .withProfiles(...(withRedis ? [REDIS_PROFILE] : []))
      .withStartupTimeout(STARTUP_TIMEOUT_MS);
    // The fake and the agents by their listening lines; llama.cpp (ready once its model is loaded) and redis by their
    // healthchecks, which run beside the agents' start and so cost nothing on top of it.
    const said = { redact, lastOutput: async (container: WaitedContainer) => tail((await getContainerRuntimeClient()).container.logs(container, { tail: 20 })) };
    compose = compose.withWaitStrategy('fake-1', namedWait(Wait.forLogMessage(FAKE_LISTENING), 'fake-1', said));
    for (const name of agents) compose = compose.withWaitStrategy(name, namedWait(Wait.forLogMessage(AGENT_LISTENING), name, said));
    for (const name of [...(local ? ['llama_cpp-1'] : []), ...(withRedis ? ['redis-1'] : [])]) compose = compose.withWaitStrategy(name, namedWait(Wait.forHealthCheck(), name, said));
    env = await compose.up(services);
    // Testcontainers maps the containers that run once `up` is done: one that already exited (an agent that crashed
    // while the others started) is silently absent, and its wait strategy unused.
    const started = env;
    const absent = ['fake-1', ...agents, ...(local ? ['llama_cpp-1'] : []), ...(withRedis ? ['redis-1'] : [])].filter((name) => {
      try {
        started.getContainer(name);
        return false;
      } catch {
        return true;
      }
    });
    if (absent.length > 0) throw new Error(`not running once started: ${absent.join(', ')}`);
  } catch (error) {
    const exited = signal?.aborted ? [] : await exitedWithWords();
    // On virtual time a container that cannot join the clock exits before it listens: say which did not.
    const on = new Set(clock?.coordinator.participants());
    const absent = clock ? participantNames(calls).filter((name) => !on.has(name)) : [];
    const note = absent.length > 0 ? `; not on the runner's virtual clock (${clock?.address}, ${CLOCK_HOST} in the containers): ${absent.join(', ')}` : '';
    await down();
    if (signal?.aborted) throw signal.reason;
    throw new StartError(`docker compose could not start ${COMPOSE_FILE}: ${(error as Error).message}${note}${exited.map((words) => `\n${words}`).join('')}`);
  } finally {
    waited();
    signal?.removeEventListener('abort', onAbort);
  }
  // From here on, a failure takes the project down as the start's did (nothing else would).
  try {
    return await running(env);
  } catch (error) {
    await down();
    if (signal?.aborted) throw signal.reason;
    throw error instanceof StartError ? error : new StartError((error as Error).message);
  }

  async function running(env: StartedDockerComposeEnvironment): Promise<RunningStack> {
    signal?.throwIfAborted();
    if (clock) await startWhenJoined(clock, calls, JOIN_WITHIN_MS);

    // docker-compose.test.yml publishes on the engine host's 127.0.0.1 only, so that is where it is reached (a local
    // engine, Docker Desktop included). Not getHost(): on a machine it takes for a container, Testcontainers
    // names the bridge's gateway, where nothing is published. On virtual time: the container's own address on the
    // compose network (see above).
    const urlOf = (name: string, port: number) => {
      const container = env.getContainer(name);
      if (!clock) return `http://127.0.0.1:${container.getMappedPort(port)}`;
      const [network] = container.getNetworkNames();
      return `http://${container.getIpAddress(network as string)}:${port}`;
    };
    // Redis is not watched, as on the process stack: the agents go on without it, and a scenario takes it down itself.
    const watched: Record<string, string> = {
      ...Object.fromEntries(agents.map((name, i) => [name, calls > 1 ? `the agent container of call ${i + 1}` : 'the agent container'])),
      'fake-1': 'the fake OpenRouter container',
      ...(local && { 'llama_cpp-1': 'the llama.cpp container' }),
    };
    const callUrls = agents.map((name) => urlOf(name, 8081));
    const fakeUrl = urlOf('fake-1', 4010);
    const redis = withRedis ? redisControl(env.getContainer('redis-1').getId(), getContainerRuntimeClient) : undefined;
    let stopped: Promise<void> | undefined;
    if (clock) progress(`on the runner's clock: ${participantNames(calls).join(', ')} (reached at ${fakeUrl}, ${callUrls.join(', ')})`);
    // Last, once nothing above can throw: its timer would outlive a failed start.
    const watch = watchContainers(env, watched, redact, getContainerRuntimeClient);
    return {
      fakeUrl,
      agentUrl: callUrls[0] as string,
      ...(calls > 1 && { callUrls }),
      ...(redis && { redis }),
      pids: {},
      crashed: crashOrClockFailure(watch.crashed, clock, () => stopped !== undefined),
      ...(clock && { clock: clock.coordinator.clock }),
      stop() {
        stopped ??= (async () => {
          watch.stop();
          // One `compose down` (containers, network, volumes): without Ryuk nothing else would remove them.
          await down();
        })();
        return stopped;
      },
    };
  }
}

/**
 * Where containers reach this machine, and so where the runner's clock listens: the engine's default bridge
 * gateway, which Compose's `host-gateway` names (compose-override.ts CLOCK_HOST). Servers bind 127.0.0.1 unless
 * told otherwise; this one is told: a container's 127.0.0.1 is its own. Still one address (the bridge's), never
 * every interface, and a participant must bring the run's secret. An engine elsewhere (a remote host, Docker
 * Desktop's VM) has no such address here, and its containers no direct route back: virtual time needs a local engine.
 */
async function clockForContainers(scenario: StartRequest['scenario'], getContainerRuntimeClient: Testcontainers['getContainerRuntimeClient']): Promise<StackClock> {
  const client = await getContainerRuntimeClient();
  const gateway = bridgeGateway((await client.network.getById('bridge').inspect()) as BridgeIpam);
  const elsewhere = `virtual time on containers needs the Docker engine on this machine (the runner joins its containers on their bridge network, and they its clock on the default bridge's gateway)`;
  if (!gateway) throw new StartError(`${elsewhere}, and the engine's default bridge has no IPv4 gateway: play at --speed N`);
  // Listening there fails (EADDRNOTAVAIL) when the gateway is not this machine's: an engine elsewhere.
  return startStackClock(gateway).catch((error: Error) => {
    throw error instanceof StartError && /EADDRNOTAVAIL/.test(error.message) ? new StartError(`${elsewhere}, and ${gateway} is not an address here: play at --speed N`) : error;
  });
}

/**
 * The redis container as the runner drives it: `docker kill` (SIGKILL, a crash) and `docker start` of the same
 * container, which keeps its name on the compose network (the agents' REDIS_URL) and, with no persistence, comes
 * back empty. The start resolves once redis-cli in it answers PING, like the process stack's restart.
 */
function redisControl(id: string, getContainerRuntimeClient: Testcontainers['getContainerRuntimeClient']): RedisControl {
  const container = async () => {
    const client = await getContainerRuntimeClient();
    return { client, container: client.container.getById(id) };
  };
  return {
    url: COMPOSE_REDIS_URL,
    async kill() {
      const { container: redis } = await container();
      await redis.kill({ signal: 'SIGKILL' });
      // Docker's wait: resolves once it is really gone, as a killed process would.
      await redis.wait();
    },
    async restart() {
      const { client, container: redis } = await container();
      await client.container.start(redis);
      const deadline = Date.now() + REDIS_READY_TIMEOUT_MS;
      // Polled like the process stack's PING wait: the container runs before redis-server accepts connections.
      for (;;) {
        const ping = await client.container.exec(redis, ['redis-cli', '-p', '6379', 'ping']).catch(() => undefined);
        if (ping?.output.trim() === 'PONG') return;
        if (Date.now() > deadline) throw new Error(`the redis container did not answer PING within ${REDIS_READY_TIMEOUT_MS / 1000} s of its start`);
        await sleep(REDIS_POLL_MS);
      }
    },
  };
}

/** Polls the containers' state: the first one found stopped is the crash. */
function watchContainers(
  env: StartedDockerComposeEnvironment,
  services: Record<string, string>,
  redact: (line: string) => string,
  getContainerRuntimeClient: Testcontainers['getContainerRuntimeClient'],
): { crashed: Promise<ServiceFailure>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const crashed = new Promise<ServiceFailure>((resolveCrash) => {
    timer = setInterval(() => {
      void (async () => {
        const client = await getContainerRuntimeClient();
        for (const [name, label] of Object.entries(services)) {
          const started = env.getContainer(name);
          const container = client.container.getById(started.getId());
          const { State } = await client.container.inspect(container);
          if (State.Running) continue;
          clearInterval(timer);
          resolveCrash({ service: label, how: `with code ${State.ExitCode}`, output: (await tail(started.logs({ tail: 20 }))).map(redact) });
          return;
        }
      })().catch(() => {});
    }, WATCH_EVERY_MS);
  });
  return { crashed, stop: () => clearInterval(timer) };
}

/**
 * A container's last 20 lines, from a log stream Testcontainers demultiplexed (a started container's `logs`, or its
 * runtime client's for a container not yet mapped); at most 2 s: a running container's stream does not end.
 */
async function tail(logs: Promise<Readable>): Promise<string[]> {
  const stream = await logs;
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer | string) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  await new Promise((done) => {
    stream.on('end', done);
    setTimeout(done, 2_000);
  });
  return lines;
}
