/**
 * What one scenario changes in docker-compose.test.yml, as a compose override file: the agent's environment
 * (the same variables the process stack sets, with the services' in-network addresses), for a fleet the number of
 * agents (one container per call) and the shared Redis's address, for a scenario outside the library the file
 * mounted into the fake, and on virtual time the runner's clock for the fake and every agent. And what makes a
 * start cheap: the fake and the agents run the rig's image the harness built once (rig-image.ts), so Compose builds
 * nothing; the agents depend on nothing (their command waits for the fake to listen, and the harness waits for
 * llama.cpp itself, so it need not start where the scenario does not use it); and the fake's and the agents'
 * healthchecks are off, since the harness waits for their listening lines instead (a `node` every 2 s in every
 * container, ten agents in a fleet, is CPU a 2-core machine needs). Pure, so it is tested without Docker.
 */
import { basename } from 'node:path';
import { Scalar, stringify } from 'yaml';
import type { Scenario } from '../../contract/scenario/schema.js';
import { CLOCK_TOKEN_ENV } from '../../contract/time/shared-clock.js';
import { scenarioAgentVars } from './agent-env.js';
import { agentClockName } from './stack-clock.js';

/** Inside the agent's container nothing listens here: the local server is down (connection refused). */
export const CLOSED_LOCAL_URL = 'http://127.0.0.1:65530/v1';
/** The redis service of docker-compose.test.yml (profile `redis`), as the agents reach it on the compose network. */
export const COMPOSE_REDIS_URL = 'redis://redis:6379';
/** The compose profile that starts it. */
export const REDIS_PROFILE = 'redis';
/** Where a scenario from outside the library is mounted in the fake's container. */
const EXTRA_DIR = '/app/rehearsal';

/**
 * The name a container gives the engine's host, where the runner's clock listens (`extra_hosts: host-gateway`):
 * a container's 127.0.0.1 is its own, not the host's.
 */
export const CLOCK_HOST = 'holdline-clock';

/** The runner's virtual clock, as the containers join it. */
export interface ComposeClock {
  /** The coordinator's port on the engine's host (containers.ts: on the default bridge's address). */
  port: number;
  /** docker-compose.test.yml, absolute: a fleet's agents 2..N extend its `agent` service. */
  composeFile: string;
}

export interface Override {
  /** The override file's text. */
  yaml: string;
  /** HOLDLINE_SCENARIO for the fake: a library name or the mounted file. */
  scenarioRef: string;
}

/**
 * @param image the rig's image (rig-image.ts), run by the fake and every agent instead of building theirs.
 * @param clock the runner's virtual clock; absent: wall time at the base file's `--speed`.
 */
export function composeOverride(scenario: Scenario, scenarioFile: string, inLibrary: boolean, image: string, clock?: ComposeClock): Override {
  const environment = scenarioAgentVars(scenario, {
    openrouterBaseURL: 'http://fake:4010/api/v1',
    localBaseURL: scenario.agent.local ? 'http://llama_cpp:8080/v1' : CLOSED_LOCAL_URL,
    localModel: 'holdline-tiny',
  });
  const mounted = `${EXTRA_DIR}/${basename(scenarioFile)}`;
  const scenarioRef = inLibrary ? scenario.name : mounted;
  if (scenario.agent.redis !== false) environment.REDIS_URL = COMPOSE_REDIS_URL;
  const agentEnv = mapValues(environment, literal);
  const prebuilt = { image: literal(image), build: RESET, healthcheck: NO_HEALTHCHECK };
  const fake: Record<string, unknown> = { ...prebuilt, ...(!inLibrary && { volumes: [`${literal(scenarioFile)}:${literal(mounted)}:ro`] }) };
  const agentBase = { ...prebuilt, depends_on: RESET };
  if (!clock) {
    // One container per call, as LiveKit runs one process per job: `scale` names them agent-1 .. agent-N, each with
    // its own free host port, and a crash or a stop is one call's, as on the process stack.
    const agent = { ...agentBase, environment: agentEnv, ...(scenario.calls > 1 && { scale: scenario.calls }) };
    return { yaml: stringify({ services: { agent, fake } }, NO_ALIASES), scenarioRef };
  }
  // On the runner's clock every agent needs its own name on it (ties go by name), which `scale` cannot give (every
  // replica has the same command and environment): call 1 is the `agent` service, calls 2..N services `agent-N`
  // extending it, on the same prebuilt image. With Redis each agent starts once Redis listens too
  // (docker/when-listening.sh): an agent whose first connection was refused would reconnect on the clock
  // (src/chain/redis-reconnect.ts), a timer only some runs have, and the same rehearsal would play out two ways.
  // (The process stack starts redis-server before any agent.)
  const agentCommand = scenario.agent.redis !== false ? waitingForRedis(AGENT_COMMAND) : AGENT_COMMAND;
  const joins = (name: string) => ({
    ...agentBase,
    command: [...agentCommand, '--clock', `${CLOCK_HOST}:${clock.port}`, '--clock-name', name],
    environment: { ...agentEnv, ...CLOCK_TOKEN },
    extra_hosts: CLOCK_HOST_ENTRY,
  });
  const services: Record<string, unknown> = {
    fake: { ...fake, command: [...FAKE_COMMAND, literal(scenarioRef), '--clock', `${CLOCK_HOST}:${clock.port}`], environment: CLOCK_TOKEN, extra_hosts: CLOCK_HOST_ENTRY },
    agent: joins(agentClockName(1, scenario.calls)),
  };
  for (let call = 2; call <= scenario.calls; call++) {
    services[`agent-${call}`] = { extends: { file: literal(clock.composeFile), service: 'agent' }, ...joins(agentClockName(call, scenario.calls)) };
  }
  return { yaml: stringify({ services }, NO_ALIASES), scenarioRef };
}

/**
 * The container of each call's agent, as Compose names it (`service-index`): a scaled `agent` (wall time) is
 * agent-1 .. agent-N; on the runner's clock call 1 is agent-1 and call N the one container of service agent-N.
 */
export function agentContainers(calls: number, virtual: boolean): string[] {
  return Array.from({ length: calls }, (_, i) => (virtual && i > 0 ? `agent-${i + 1}-1` : `agent-${i + 1}`));
}

/** The compose services of the calls' agents: `agent` (scaled on wall time), or on the runner's clock agent, agent-2 .. agent-N. */
export function agentServices(calls: number, virtual: boolean): string[] {
  return virtual ? Array.from({ length: calls }, (_, i) => (i > 0 ? `agent-${i + 1}` : 'agent')) : ['agent'];
}

/**
 * docker-compose.test.yml's commands without their `--speed`: on the runner's clock the fake and the agent get
 * `--clock` instead (their CLIs take one or the other). Kept in step with that file by compose-override.test.ts.
 */
export const FAKE_COMMAND = ['node', 'fakes/openrouter/cli.js', '--port', '4010', '--host', '0.0.0.0', '--scenario'];
export const AGENT_COMMAND = ['bash', 'docker/when-listening.sh', 'fake', '4010', '--', 'node', 'src/main.js', '--rehearsal', '--port', '8081', '--host', '0.0.0.0'];
/** The agent's command, waiting for the redis service's port as well as the fake's before it starts. */
function waitingForRedis(command: readonly string[]): string[] {
  const end = command.indexOf('--');
  return [...command.slice(0, end), 'redis', '6379', ...command.slice(end)];
}
/**
 * The run's secret, from the environment of `docker compose` (containers.ts): neither on a command line nor in
 * the override file. The processes in the containers read it as the process stack's children do.
 */
const CLOCK_TOKEN = { [CLOCK_TOKEN_ENV]: `\${${CLOCK_TOKEN_ENV}}` };
/** Docker's `host-gateway`: the engine host's address on the default bridge, where the runner's clock listens. */
const CLOCK_HOST_ENTRY = [`${CLOCK_HOST}:host-gateway`];
/** Compose's `!reset`: drops what the base file (or the extended service) set. */
const RESET = Object.assign(new Scalar(null), { tag: '!reset' });
/** Every service spelled out in full: a shared value must not become a YAML anchor and alias. */
const NO_ALIASES = { aliasDuplicateObjects: false };
/** The base file's healthcheck, off: nothing waits on it (see the top of this file). */
const NO_HEALTHCHECK = { disable: true };

/** Compose interpolates `$VAR` in every value of every file: `$$` keeps a scenario's `$` a dollar. */
function literal(value: string): string {
  return value.replaceAll('$', '$$$$');
}

function mapValues(record: Record<string, string>, f: (value: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}

/**
 * The override that lets the image's `npm ci` trust a TLS-intercepting proxy: the CA file (the one
 * NODE_EXTRA_CA_CERTS names) handed to both builds as the BuildKit secret `host_ca`, which the Dockerfile
 * mounts for that one step. A secret, not a build argument or a copied file, so it never lands in a layer.
 * The build context is spelled out absolute: a relative one in a file outside the checkout would be ambiguous.
 */
export function buildCaOverride(repoRoot: string, caFile: string, services: readonly string[] = ['agent', 'fake']): string {
  const build = { context: literal(repoRoot), secrets: ['host_ca'] };
  return stringify({ services: Object.fromEntries(services.map((name) => [name, { build }])), secrets: { host_ca: { file: literal(caFile) } } });
}
