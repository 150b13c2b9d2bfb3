/**
 * Reading a compose file the way the checks need it: commands as argument lists, environment as a map,
 * ports and healthcheck URLs as numbers and URLs. `${VAR:-default}` is read as its default, which is what a
 * fresh clone with no .env gets.
 *
 * Only the parts of the Compose spec these files use are modelled; anything else is ignored.
 */
import { parse } from 'yaml';

export interface Service {
  image?: string;
  build?: unknown;
  command?: string | (string | number)[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | (string | { path: string })[];
  ports?: (string | number | { target: number; published?: string | number; protocol?: string })[];
  expose?: (string | number)[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  profiles?: string[];
  container_name?: string;
  init?: boolean;
}

export interface ComposeDoc {
  services: Record<string, Service>;
}

/** Parses a compose document; throws naming `file` when it has no `services` map. */
export function parseCompose(text: string, file: string): ComposeDoc {
  const doc: unknown = parse(text);
  const services = (doc as { services?: unknown } | null)?.services;
  if (typeof services !== 'object' || services === null || Array.isArray(services)) {
    throw new Error(`${file}: expected a top-level "services" map`);
  }
  return { services: services as Record<string, Service> };
}

/** `${VAR:-d}` and `${VAR-d}` become d, `${VAR}` and `$VAR` become "", `$$` becomes `$`. */
export function withDefaults(value: string): string {
  return value.replace(/\$\$|\$\{([A-Za-z_]\w*)(?::?-([^}]*))?\}|\$([A-Za-z_]\w*)/g, (match, _braced, fallback) =>
    match === '$$' ? '$' : typeof fallback === 'string' ? fallback : '',
  );
}

/**
 * Names of `${VAR}` / `$VAR` references without a default in any string of `value` (a parsed document, so
 * comments, which Compose does not interpolate, are not read). `${VAR:?message}` is required on purpose, and
 * `$$` is an escaped dollar: neither counts.
 */
export function referencesWithoutDefault(value: unknown): string[] {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\$\$|\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g)) {
        const name = m[1] ?? m[2];
        if (name) names.add(name);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(visit);
  };
  visit(value);
  return [...names];
}

/** The command as arguments with defaults applied. A string command is split on whitespace, quotes respected. */
export function commandArgs(service: Service): string[] {
  const { command } = service;
  if (command === undefined) return [];
  if (Array.isArray(command)) return command.map((a) => withDefaults(String(a)));
  return [...withDefaults(command).matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** The value after `--name` (or `--name=value`) in `args`. */
export function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** Raw environment (no defaults applied), list form (`KEY=value`) included. */
export function rawEnvironment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split('=')[0] ?? '', entry.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Environment with defaults applied. */
export function environment(service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(rawEnvironment(service)).map(([k, v]) => [k, withDefaults(v)]));
}

export interface PortMapping {
  container: number;
  /** The host side as written (after defaults), if any: "8081", "127.0.0.1:8081". */
  host?: string;
  protocol: string;
  spec: string;
}

/** `ports` entries, short ("4010", "8080:4010", "127.0.0.1:8081:8081", "7882:7882/udp") or long syntax. */
export function portMappings(service: Service): PortMapping[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry === 'object') {
      const published = entry.published === undefined ? undefined : withDefaults(String(entry.published));
      return { container: entry.target, host: published, protocol: entry.protocol ?? 'tcp', spec: JSON.stringify(entry) };
    }
    const spec = withDefaults(String(entry));
    const [ports = '', protocol = 'tcp'] = spec.split('/');
    const parts = ports.split(':');
    const container = Number(parts.pop());
    return { container, host: parts.length > 0 ? parts.join(':') : undefined, protocol, spec };
  });
}

/** TCP container ports the service publishes or exposes. */
export function reachablePorts(service: Service): number[] {
  const published = portMappings(service)
    .filter((p) => p.protocol === 'tcp')
    .map((p) => p.container);
  const exposed = (service.expose ?? []).map((e) => Number(withDefaults(String(e)).split('/')[0]));
  return [...published, ...exposed];
}

/** The healthcheck's command as arguments (after CMD / CMD-SHELL), or undefined when there is none. */
export function healthcheckArgs(service: Service): string[] | undefined {
  const hc = service.healthcheck;
  if (!hc || hc.disable || hc.test === undefined) return undefined;
  const test = typeof hc.test === 'string' ? ['CMD-SHELL', hc.test] : hc.test;
  if (test[0] === 'NONE' || test.length < 2) return undefined;
  const args = test.slice(1).map(withDefaults);
  return test[0] === 'CMD-SHELL' ? args.join(' ').split(/\s+/) : args;
}

/** The first http(s) URL in the healthcheck command. */
export function healthcheckUrl(service: Service): URL | undefined {
  const url = healthcheckArgs(service)
    ?.map((a) => /https?:\/\/[^\s'"]+/.exec(a)?.[0])
    .find((u) => u !== undefined);
  return url === undefined ? undefined : new URL(url);
}

/** `depends_on` as service -> condition (the list form means service_started). */
export function dependsOn(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v?.condition ?? 'service_started']));
}

/** Ports that images listen on when not told otherwise (only images whose command sets no port). */
const IMAGE_DEFAULT_PORTS: [prefix: string, port: number][] = [
  // LiveKit docs (self-hosting/local): "By default LiveKit's signal server binds to 127.0.0.1:7880".
  ['livekit/livekit-server', 7880],
  // Kokoro-FastAPI: uvicorn on $PORT, 8880 unless set (api/src/core/config.py).
  ['ghcr.io/remsky/kokoro-fastapi', 8880],
  // NVIDIA NIM for speech: HTTP on $NIM_HTTP_API_PORT, 9000 unless set.
  ['nvcr.io/nim/nvidia/', 9000],
];

/**
 * Ports that holdline's own commands open without a flag. `npm start` runs the LiveKit worker in production
 * mode, whose health server listens on 0.0.0.0:8081 (@livekit/agents 1.9, worker.js: `Default.port(production)`;
 * src/worker.ts does not change it): `GET /` answers 200 "OK" once connected to LiveKit, 503 before.
 */
const SCRIPT_DEFAULT_PORTS: Record<string, ListenPort> = {
  start: { port: 8081, from: 'LiveKit worker health server' },
};

export interface ListenPort {
  port: number;
  /** Where the port came from, for messages: "--port", "HTTP_PORT", "image default", ... */
  from: string;
}

/** Every port the service listens on: `--port`, HTTP_PORT, and what its image or npm script opens by default. */
export function listenPorts(service: Service): ListenPort[] {
  const ports: ListenPort[] = [];
  const args = commandArgs(service);
  const flag = flagValue(args, '--port');
  if (flag !== undefined) ports.push({ port: Number(flag), from: '--port' });
  const httpPort = environment(service).HTTP_PORT;
  if (httpPort !== undefined) ports.push({ port: Number(httpPort), from: 'HTTP_PORT' });
  const scriptDefault = SCRIPT_DEFAULT_PORTS[npmScript(args) ?? ''];
  if (scriptDefault) ports.push(scriptDefault);
  const image = withDefaults(service.image ?? '');
  const known = IMAGE_DEFAULT_PORTS.find(([prefix]) => image.startsWith(prefix));
  const portVar = environment(service).PORT ?? environment(service).NIM_HTTP_API_PORT;
  if (portVar !== undefined && known) ports.push({ port: Number(portVar), from: 'PORT variable' });
  else if (known && ports.length === 0) ports.push({ port: known[1], from: 'image default' });
  return ports;
}

/** "4010 (--port)" or "8082 (HTTP_PORT), 8081 (LiveKit worker health server)", for messages. */
export function describePorts(ports: ListenPort[]): string {
  return ports.map((p) => `${p.port} (${p.from})`).join(', ');
}

/** The npm script a command runs (`npm start`, `npm run X`, `npm test`), if it runs one. */
export function npmScript(args: string[]): string | undefined {
  if (args[0] !== 'npm') return undefined;
  if (args[1] === 'start' || args[1] === 'test') return args[1];
  if (args[1] === 'run' || args[1] === 'run-script') return args[2];
  return undefined;
}
