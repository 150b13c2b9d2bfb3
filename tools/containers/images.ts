/**
 * The images the compose files and the Dockerfile name, and what to do when one is missing: pull it, or, when
 * no registry answers (the offline machines), build a stand-in where one is honest:
 *
 * - the Dockerfile's base (`node:20-bookworm-slim`): Debian bookworm from debootstrap (minbase, CA
 *   certificates) with this machine's Node 20 and npm, a `node` user (uid 1000), imported under that name;
 * - llama.cpp's server image: that base with curl and libgomp1 and the llama-server `npm run llama:build`
 *   made, with the official image's entrypoint, host variable and healthcheck;
 * - Redis's image: that base with Debian's `redis-server` package (bookworm's Redis 7.0, and its `redis-cli` for
 *   the healthcheck), `redis-server` as the command, port 6379, as the official image has them.
 *
 * Stand-ins carry the label `org.holdline.stand-in` (what they stand in for) and are never pushed. Images with
 * no honest stand-in (LiveKit's server, the speech services, Testcontainers' reaper) are reported missing.
 */
import { chmodSync, cpSync, appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chownSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ensureLlama } from '../llama/ensure.js';
import { exec, run } from '../kit/run-command.js';
import { debianMirror } from './plugins.js';
import { containersDir } from './state.js';

type Say = (line: string) => void;

export const STAND_IN_LABEL = 'org.holdline.stand-in';
/** Testcontainers' reaper, as testcontainers 11.14 names it (build/reaper/reaper.js; a test keeps this in step). */
export const RYUK_IMAGE = process.env.RYUK_CONTAINER_IMAGE ?? 'testcontainers/ryuk:0.14.0';
/** How long one `docker pull` may try before the registry counts as unreachable. */
const PULL_TIMEOUT_MS = 60_000;

export type StandIn = 'node-base' | 'llama-server' | 'redis-server';

/** The compose services whose image has an offline stand-in, and which. */
const STAND_IN_SERVICES: Record<string, StandIn> = { llama_cpp: 'llama-server', redis: 'redis-server' };

export interface WantedImage {
  name: string;
  /** Who names it, for people: "Dockerfile FROM", "docker-compose.test.yml llama_cpp". */
  usedBy: string[];
  /** Needed by the container test stack (docker-compose.test.yml and what it builds). */
  forTests: boolean;
  standIn?: StandIn;
}

/**
 * Every image the Dockerfile (FROM) and both compose files (`image:` of services that are not built here)
 * name, with `${VAR:-default}` resolved from `env`, plus Testcontainers' reaper. Pure but for reading files.
 */
export function wantedImages(repoRoot: string, env: NodeJS.ProcessEnv = process.env): WantedImage[] {
  const wanted = new Map<string, WantedImage>();
  const add = (name: string, usedBy: string, forTests: boolean, standIn?: StandIn) => {
    const entry = wanted.get(name) ?? { name, usedBy: [], forTests: false, ...(standIn && { standIn }) };
    entry.usedBy.push(usedBy);
    entry.forTests ||= forTests;
    wanted.set(name, entry);
  };
  for (const base of dockerfileBases(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))) {
    add(base, 'Dockerfile FROM', true, base === 'node:20-bookworm-slim' ? 'node-base' : undefined);
  }
  for (const [file, forTests] of [['docker-compose.test.yml', true], ['docker-compose.yml', false]] as const) {
    const services = (parse(readFileSync(join(repoRoot, file), 'utf8')) as { services: Record<string, { image?: string; build?: unknown }> }).services;
    for (const [service, spec] of Object.entries(services)) {
      if (spec.build !== undefined || !spec.image) continue;
      add(interpolate(spec.image, env), `${file} ${service}`, forTests, STAND_IN_SERVICES[service]);
    }
  }
  if (env.TESTCONTAINERS_RYUK_DISABLED !== 'true') add(RYUK_IMAGE, 'Testcontainers (Ryuk, its reaper)', true);
  return [...wanted.values()];
}

/** The external images of a Dockerfile's FROM lines (not its own stages). */
export function dockerfileBases(text: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const match of text.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = match[1] as string;
    if (!stages.has(image) && !bases.includes(image)) bases.push(image);
    if (match[2]) stages.add(match[2]);
  }
  return bases;
}

/** Compose's `${VAR:-default}`, `${VAR-default}` and `${VAR}` for one value. */
export function interpolate(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{(\w+)(?:(:?-)([^}]*))?\}/g, (_, name: string, op: string | undefined, fallback: string | undefined) => {
    const set = env[name];
    if (op === ':-') return set ? set : (fallback ?? '');
    if (op === '-') return set !== undefined ? set : (fallback ?? '');
    return set ?? '';
  });
}

/** Present in the engine: its stand-in label's value, or '' for a real image; undefined when absent. */
export async function imagePresence(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const result = await exec('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${STAND_IN_LABEL}" }}`, name], { env });
  if (result.code !== 0) return undefined;
  const label = result.stdout.trim();
  return label === '<no value>' ? '' : label;
}

/** Tries the registry once; true when the image came. */
export async function tryPull(name: string, env: NodeJS.ProcessEnv): Promise<{ pulled: boolean; why: string }> {
  const result = await exec('docker', ['pull', '-q', name], { env, timeoutMs: PULL_TIMEOUT_MS });
  if (result.code === 0) return { pulled: true, why: '' };
  const why = result.code === null ? `no answer within ${PULL_TIMEOUT_MS / 1000} s` : result.stderr.trim().split('\n').pop() ?? 'failed';
  return { pulled: false, why };
}

export async function buildStandIn(image: WantedImage, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  if (image.standIn === 'node-base') await buildNodeBase(image.name, env, say);
  else if (image.standIn === 'llama-server') await buildLlamaStandIn(image.name, env, say);
  else if (image.standIn === 'redis-server') await buildRedisStandIn(image.name, env, say);
}

async function buildNodeBase(name: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  const rootfs = join(containersDir(), 'debootstrap', 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  try {
    const mirror = debianMirror();
    say(`debootstrap bookworm (minbase, ca-certificates) from ${mirror}: a few minutes`);
    let fetched = 0;
    await run('debootstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', rootfs, mirror], {
      onLine: (line) => {
        // One line in fifty: enough to show it moving without flooding the CI log.
        if (/^I: (Retrieving|Extracting|Unpacking|Configuring)/.test(line) && fetched++ % 50 === 0) say(`  ${line}`);
      },
    });
    say(`adding Node ${process.version} and npm from this machine, and the node user (uid 1000)`);
    const local = join(rootfs, 'usr/local');
    copyFileSync(process.execPath, join(local, 'bin/node'));
    chmodSync(join(local, 'bin/node'), 0o755);
    cpSync(join(dirname(process.execPath), '../lib/node_modules/npm'), join(local, 'lib/node_modules/npm'), { recursive: true, dereference: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));
    appendFileSync(join(rootfs, 'etc/group'), 'node:x:1000:\n');
    appendFileSync(join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash\n');
    mkdirSync(join(rootfs, 'home/node'));
    chownSync(join(rootfs, 'home/node'), 1000, 1000);
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives', 'usr/share/doc', 'usr/share/man']) {
      rmSync(join(rootfs, dir), { recursive: true, force: true });
      mkdirSync(join(rootfs, dir), { recursive: true });
    }
    say(`docker import as ${name} (labelled ${STAND_IN_LABEL})`);
    const changes = [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `ENV NODE_VERSION=${process.version.slice(1)}`,
      'CMD ["node"]',
      `LABEL ${STAND_IN_LABEL}="${name} (Debian bookworm minbase + this machine's Node ${process.version}; built offline by npm run containers:prepare; never push)"`,
    ];
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await run('docker', ['import', ...changes.flatMap((c) => ['--change', c]), '-', name], { env, input: tar.stdout });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

async function buildLlamaStandIn(name: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  const { serverBin } = await ensureLlama({ onProgress: (p) => say(`  llama: ${p.message}`) });
  say(`building ${name} from the local base and ${serverBin}`);
  // What the official server image promises the compose files: /app/llama-server as the entrypoint,
  // curl for the healthcheck, every interface by default (LLAMA_ARG_HOST), root.
  await buildOnBase(name, env, say, {
    files: { 'llama-server': serverBin },
    lines: [
      'RUN apt-get update && apt-get install -y --no-install-recommends curl libgomp1 && rm -rf /var/lib/apt/lists/*',
      'COPY llama-server /app/llama-server',
      'WORKDIR /app',
      'ENV LLAMA_ARG_HOST=0.0.0.0',
      'HEALTHCHECK CMD ["curl", "-f", "http://localhost:8080/health"]',
      'ENTRYPOINT ["/app/llama-server"]',
    ],
    label: `${name} (the llama-server npm run llama:build made, on the local Debian base; built offline by npm run containers:prepare; never push)`,
  });
}

/**
 * What the official Redis image promises the compose files: `redis-server` on the PATH as the command (so
 * `command: [redis-server, ...]` works the same), `redis-cli` for the healthcheck, port 6379, /data as the
 * working directory. Debian's package, from apt inside the build: no registry.
 */
async function buildRedisStandIn(name: string, env: NodeJS.ProcessEnv, say: Say): Promise<void> {
  say(`building ${name} from the local base and Debian's redis-server package`);
  await buildOnBase(name, env, say, {
    files: {},
    lines: [
      'RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*',
      'WORKDIR /data',
      'EXPOSE 6379',
      'CMD ["redis-server"]',
    ],
    label: `${name} (Debian bookworm's redis-server package on the local Debian base; built offline by npm run containers:prepare; never push)`,
  });
}

/** `docker build` of a Dockerfile FROM the local base: `lines` after the FROM, `files` copied into the context. */
async function buildOnBase(name: string, env: NodeJS.ProcessEnv, say: Say, spec: { files: Record<string, string>; lines: string[]; label: string }): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'holdline-stand-in-'));
  try {
    for (const [target, source] of Object.entries(spec.files)) copyFileSync(source, join(context, target));
    writeFileSync(join(context, 'Dockerfile'), ['FROM node:20-bookworm-slim', ...spec.lines, ''].join('\n'));
    await run('docker', ['build', '--label', `${STAND_IN_LABEL}=${spec.label}`, '-t', name, context], {
      env: { ...env, DOCKER_BUILDKIT: '1' },
      onLine: (line) => {
        if (/^#\d+ (\[|DONE|naming)/.test(line)) say(`  ${line.slice(0, 120)}`);
      },
    });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
