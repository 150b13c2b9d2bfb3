/**
 * Compose v2 and buildx as Docker CLI plugins. Debian bookworm's docker-compose is Compose v1 (Python), which
 * Testcontainers cannot drive (it runs `docker compose` and expects `service-1` names); Debian trixie's
 * docker-compose (2.26) and docker-buildx (0.13) packages carry the v2 plugins. They are fetched with
 * `apt-get download` from trixie on the mirror apt already uses, unpacked, and only the two binaries are
 * copied into a private DOCKER_CONFIG/cli-plugins: nothing is installed system-wide.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, run } from '../kit/run-command.js';
import { paths } from './state.js';

type Say = (line: string) => void;

const PLUGINS = { 'docker-compose': 'docker-compose', 'docker-buildx': 'docker-buildx' } as const;

/** Compose's version when `docker compose` is v2 with `env`'s DOCKER_CONFIG, else undefined. */
export async function composeVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const result = await exec('docker', ['compose', 'version', '--short'], { env, timeoutMs: 15_000 });
  const version = result.stdout.trim().replace(/^v/, '');
  return result.code === 0 && /^2\./.test(version) ? version : undefined;
}

/** The Debian mirror apt uses (from sources.list or the deb822 .sources files), for trixie and debootstrap. */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const mirror = mirrorIn(text);
    if (mirror) return mirror;
  }
  return 'http://deb.debian.org/debian';
}

/** The first archive URI (not security, not a third-party repository) in a sources file's text. Pure. */
export function mirrorIn(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(bookworm|trixie|stable)\s/m.exec(stanza);
    if (oneLine?.[1] && isArchive(oneLine[1])) return oneLine[1];
    const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
    const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
    if (uris && isArchive(uris) && /\b(bookworm|trixie|stable)\b/.test(suites) && !/security/.test(suites)) return uris;
  }
  return undefined;
}

function isArchive(uri: string): boolean {
  return /\/debian\/?$/.test(uri) && !/security/.test(uri);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.list') || f.endsWith('.sources'));
  } catch {
    return [];
  }
}

/** Fetches both plugins from trixie into the private DOCKER_CONFIG; returns that DOCKER_CONFIG. */
export async function installPlugins(say: Say): Promise<string> {
  const pluginDir = join(paths.dockerConfig(), 'cli-plugins');
  mkdirSync(pluginDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'holdline-plugins-'));
  try {
    const mirror = debianMirror();
    say(`fetching Compose v2 and buildx from Debian trixie (${mirror}) into ${pluginDir}`);
    // A private apt state: trixie's lists never mix with the system's, and nothing is installed.
    const sources = join(work, 'trixie.list');
    writeFileSync(sources, `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} trixie main\n`);
    mkdirSync(join(work, 'lists/partial'), { recursive: true });
    mkdirSync(join(work, 'cache/archives/partial'), { recursive: true });
    const apt = [
      '-o', `Dir::Etc::SourceList=${sources}`,
      '-o', 'Dir::Etc::SourceParts=-',
      '-o', `Dir::State::Lists=${join(work, 'lists')}`,
      '-o', `Dir::Cache=${join(work, 'cache')}`,
      '-o', 'APT::Sandbox::User=root',
    ];
    await run('apt-get', [...apt, 'update', '-q']);
    await run('apt-get', [...apt, 'download', ...Object.keys(PLUGINS)], { cwd: work });
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) {
      await run('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    }
    for (const binary of Object.values(PLUGINS)) {
      const from = join(work, 'root/usr/libexec/docker/cli-plugins', binary);
      if (!existsSync(from)) throw new Error(`trixie's package did not hold ${from}`);
      copyFileSync(from, join(pluginDir, binary));
    }
    return paths.dockerConfig();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
