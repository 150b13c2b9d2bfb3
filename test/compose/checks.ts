/**
 * The honesty checks for the compose files. Each takes a parsed document and returns the problems it finds as
 * plain sentences (empty when all is well), so a failing test prints exactly what is wrong and where, and the
 * negative tests can feed broken documents to the very same functions.
 */
import {
  commandArgs,
  dependsOn,
  environment,
  flagValue,
  healthcheckArgs,
  describePorts,
  healthcheckUrl,
  listenPorts,
  npmScript,
  portMappings,
  rawEnvironment,
  reachablePorts,
  type ComposeDoc,
} from './compose-model.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASSWORD)$/;

/** Every variable set on `service` must be one the agent reads. */
export function unknownEnvVars(doc: ComposeDoc, service: string, known: readonly string[]): string[] {
  const unknown = Object.keys(rawEnvironment(doc.services[service] ?? {})).filter((k) => !known.includes(k));
  return unknown.length === 0
    ? []
    : [`${service} sets environment variables that src/config.ts does not read: ${unknown.join(', ')}`];
}

/** The services carrying `profile` must be exactly `expected`. */
export function profileMembers(doc: ComposeDoc, profile: string, expected: string[]): string[] {
  const members = Object.entries(doc.services)
    .filter(([, s]) => s.profiles?.includes(profile))
    .map(([name]) => name)
    .sort();
  const want = [...expected].sort();
  return members.join() === want.join()
    ? []
    : [`profile "${profile}" holds [${members.join(', ')}], expected exactly [${want.join(', ')}]`];
}

/** A service that always starts must not depend on one that starts only with a profile. */
export function dependsOnProfiled(doc: ComposeDoc): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    if (service.profiles?.length) continue;
    for (const dep of Object.keys(dependsOn(service))) {
      // `required: false` (Compose 2.20+): waited for when it runs, ignored when its profile is off.
      const deps = service.depends_on;
      if (deps && !Array.isArray(deps) && deps[dep]?.required === false) continue;
      const profiles = doc.services[dep]?.profiles;
      if (profiles?.length) problems.push(`${name} depends_on ${dep}, which starts only with --profile ${profiles.join('/')}`);
    }
  }
  return problems;
}

export function missingHealthchecks(doc: ComposeDoc): string[] {
  return Object.entries(doc.services)
    .filter(([, s]) => healthcheckArgs(s) === undefined)
    .map(([name]) => `${name} has no healthcheck`);
}

export function dependsOnHealthy(doc: ComposeDoc, from: string, to: string): string[] {
  const condition = dependsOn(doc.services[from] ?? {})[to];
  return condition === 'service_healthy'
    ? []
    : [`${from} must depend on ${to} with condition: service_healthy (found: ${condition ?? 'no depends_on entry'})`];
}

/** Every port a service listens on must be published (or exposed), and its healthcheck must probe one of them. */
export function portProblems(doc: ComposeDoc): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    const listens = listenPorts(service);
    const url = healthcheckUrl(service);
    if (url && !LOOPBACK.has(url.hostname)) {
      problems.push(`${name} healthcheck probes ${url.hostname}; a healthcheck runs inside the container: probe 127.0.0.1`);
    }
    if (listens.length === 0) continue;
    const reachable = reachablePorts(service);
    for (const listen of listens.filter((l) => !reachable.includes(l.port))) {
      problems.push(
        `${name} listens on ${describePorts([listen])} but publishes/exposes ${reachable.length ? reachable.join(', ') : 'no port'}`,
      );
    }
    const probed = url ? urlPort(url) : undefined;
    if (probed !== undefined && !listens.some((l) => l.port === probed)) {
      problems.push(`${name} healthcheck probes port ${probed} but the service listens on ${describePorts(listens)}`);
    }
  }
  return problems;
}

function urlPort(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80));
}

/** URLs in `service`'s environment must name a service of this file and a port it listens on. */
export function urlTargetProblems(doc: ComposeDoc, service: string, vars: string[]): string[] {
  const env = environment(doc.services[service] ?? {});
  const problems: string[] = [];
  for (const name of vars) {
    const value = env[name];
    if (value === undefined) continue;
    const url = new URL(value);
    const target = doc.services[url.hostname];
    const port = urlPort(url);
    if (!target) {
      problems.push(`${service} ${name} points at host "${url.hostname}", which is not a service in this file`);
      continue;
    }
    const listens = listenPorts(target);
    if (listens.length === 0) {
      problems.push(`${service} ${name} points at ${url.hostname}:${port}, but which port ${url.hostname} listens on is unknown`);
    } else if (!listens.some((l) => l.port === port)) {
      problems.push(`${service} ${name} points at ${url.hostname}:${port}, but ${url.hostname} listens on ${describePorts(listens)}`);
    }
  }
  return problems;
}

/** Servers must bind 0.0.0.0 inside containers: loopback there is unreachable from other containers and published ports. */
export function bindProblems(doc: ComposeDoc): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    const args = commandArgs(service);
    const binds: [string, string | undefined][] = [
      ['--host', flagValue(args, '--host')],
      ['--bind', flagValue(args, '--bind')],
      ['HTTP_HOST', environment(service).HTTP_HOST],
    ];
    for (const [setting, value] of binds) {
      if (value !== undefined && value !== '0.0.0.0') {
        problems.push(`${name} binds ${value} (${setting}); inside a container bind 0.0.0.0 so other containers and published ports reach it`);
      }
    }
  }
  return problems;
}

/** Every `npm start` / `npm run X` in a command must name a script of package.json. */
export function npmScriptProblems(doc: ComposeDoc, scripts: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    const script = npmScript(commandArgs(service));
    if (script !== undefined && !(script in scripts)) {
      problems.push(`${name} runs \`npm run ${script}\`, but package.json has no "${script}" script`);
    }
  }
  return problems;
}

/**
 * npm does not pass a SIGTERM on to the node process under its `sh -c`: a service run through npm needs
 * `init: true` (with the image's TINI_KILL_PROCESS_GROUP=1) for `docker stop` to reach node.
 */
export function initProblems(doc: ComposeDoc): string[] {
  return Object.entries(doc.services)
    .filter(([, s]) => npmScript(commandArgs(s)) !== undefined && s.init !== true)
    .map(([name]) => `${name} runs npm without init: true; docker stop would not reach the node process`);
}

/** Testcontainers gives each run its own project name and maps published ports to free host ports. */
export function testcontainersProblems(doc: ComposeDoc): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    if (service.container_name) {
      problems.push(`${name} sets container_name "${service.container_name}"; a fixed name collides between test runs`);
    }
    for (const port of portMappings(service)) {
      // "127.0.0.1::4010" -> address "127.0.0.1", host port "" (a free one); "8081:8081" -> no address, port "8081".
      const at = port.host?.lastIndexOf(':') ?? -1;
      const address = at >= 0 ? port.host?.slice(0, at) : undefined;
      const hostPort = at >= 0 ? port.host?.slice(at + 1) : port.host;
      if (hostPort) {
        problems.push(`${name} publishes fixed host port "${port.spec}"; publish "127.0.0.1::${port.container}" so Testcontainers maps a free one`);
      } else if (address !== '127.0.0.1') {
        problems.push(`${name} publishes "${port.spec}" on every interface; publish "127.0.0.1::${port.container}" so only this machine reaches it`);
      }
    }
  }
  return problems;
}

/** A flag given to several services (e.g. --speed) must have one value everywhere. */
export function flagAgreement(doc: ComposeDoc, flag: string): string[] {
  const values = Object.entries(doc.services)
    .map(([name, s]) => [name, flagValue(commandArgs(s), flag)] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  return new Set(values.map(([, v]) => v)).size <= 1
    ? []
    : [`${flag} differs between services: ${values.map(([n, v]) => `${n}=${v}`).join(', ')}`];
}

/** The model name the agent asks for must be the alias llama-server answers to. */
export function aliasProblems(doc: ComposeDoc, agent: string, llama: string): string[] {
  const model = environment(doc.services[agent] ?? {}).LOCAL_LLM_MODEL;
  const alias = flagValue(commandArgs(doc.services[llama] ?? {}), '--alias');
  return model === alias ? [] : [`${agent} LOCAL_LLM_MODEL is "${model}" but ${llama} serves --alias "${alias}"`];
}

/** Production: secrets come from the env_file, never from the compose file itself. */
export function secretProblems(doc: ComposeDoc, service: string, envFile = '.env'): string[] {
  const s = doc.services[service] ?? {};
  const problems: string[] = [];
  const files = [s.env_file ?? []].flat().map((f) => (typeof f === 'string' ? f : f.path));
  if (!files.includes(envFile)) problems.push(`${service} must read its secrets from env_file ${envFile}`);
  const secrets = Object.keys(rawEnvironment(s)).filter((k) => SECRET_NAME.test(k));
  if (secrets.length) problems.push(`${service} sets ${secrets.join(', ')} in the compose file; secrets belong in ${envFile}`);
  return problems;
}
