/**
 * What one scenario changes in docker-compose.test.yml, as a compose override file: the agent's environment
 * (the same variables the process stack sets, with the services' in-network addresses), for a fleet the number of
 * agents (`scale`: one container per call) and the shared Redis's address, and, for a scenario outside the
 * library, the file mounted into the fake. Pure, so it is tested without Docker.
 */
import { basename } from 'node:path';
import { stringify } from 'yaml';
import type { Scenario } from '../../contract/scenario/schema.js';
import { scenarioAgentVars } from './agent-env.js';

/** Inside the agent's container nothing listens here: the local server is down (connection refused). */
export const CLOSED_LOCAL_URL = 'http://127.0.0.1:65530/v1';
/** The redis service of docker-compose.test.yml (profile `redis`), as the agents reach it on the compose network. */
export const COMPOSE_REDIS_URL = 'redis://redis:6379';
/** The compose profile that starts it. */
export const REDIS_PROFILE = 'redis';
/** Where a scenario from outside the library is mounted in the fake's container. */
const EXTRA_DIR = '/app/rehearsal';

export interface Override {
  /** The override file's text. */
  yaml: string;
  /** HOLDLINE_SCENARIO for the fake: a library name or the mounted file. */
  scenarioRef: string;
}

export function composeOverride(scenario: Scenario, scenarioFile: string, inLibrary: boolean): Override {
  const environment = scenarioAgentVars(scenario, {
    openrouterBaseURL: 'http://fake:4010/api/v1',
    localBaseURL: scenario.agent.local ? 'http://llama_cpp:8080/v1' : CLOSED_LOCAL_URL,
    localModel: 'holdline-tiny',
  });
  const mounted = `${EXTRA_DIR}/${basename(scenarioFile)}`;
  if (scenario.agent.redis !== false) environment.REDIS_URL = COMPOSE_REDIS_URL;
  // One container per call, as LiveKit runs one process per job: `scale` names them agent-1 .. agent-N, each with
  // its own free host port, and a crash or a stop is one call's, as on the process stack.
  const agent = { environment: mapValues(environment, literal), ...(scenario.calls > 1 && { scale: scenario.calls }) };
  const services: Record<string, unknown> = { agent };
  if (!inLibrary) services.fake = { volumes: [`${literal(scenarioFile)}:${literal(mounted)}:ro`] };
  return { yaml: stringify({ services }), scenarioRef: inLibrary ? scenario.name : mounted };
}

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
