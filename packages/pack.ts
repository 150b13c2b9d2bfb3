/**
 * `npm run pack`: compiles the published code to JavaScript with .d.ts (tsc, tsconfig.build.json), lays out
 * each package (manifests.ts) under dist/stage/<dir>, and writes installable tarballs to dist/packages/.
 * Each package keeps the repository's layout (contract/, fakes/openrouter/, src/, harness/, scenarios/), so
 * the code's own relative paths (the scenario library, the entry points the runner spawns) hold unchanged.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGES, type PackageSpec } from './manifests.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const PACKAGES_DIR = join(ROOT, 'dist/packages');
const BUILD = join(ROOT, 'dist/build');
const STAGE = join(ROOT, 'dist/stage');

export interface Packed {
  name: string;
  /** Absolute path of the tarball. */
  file: string;
  /** Bytes of the tarball and of its files unpacked (npm's own count). */
  size: number;
  unpackedSize: number;
}

export function packAll(log: (line: string) => void = () => {}): Packed[] {
  rmSync(BUILD, { recursive: true, force: true });
  rmSync(STAGE, { recursive: true, force: true });
  rmSync(PACKAGES_DIR, { recursive: true, force: true });
  mkdirSync(PACKAGES_DIR, { recursive: true });
  log('compiling (tsc -p tsconfig.build.json)');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return PACKAGES.map((spec) => {
    const dir = stage(spec, rootManifest.dependencies);
    const out = execFileSync('npm', ['pack', dir, '--pack-destination', PACKAGES_DIR, '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const [info] = JSON.parse(out) as { name: string; filename: string; size: number; unpackedSize: number }[];
    if (!info) throw new Error(`npm pack ${dir} said nothing`);
    const packed = { name: info.name, file: join(PACKAGES_DIR, info.filename), size: info.size, unpackedSize: info.unpackedSize };
    log(`${packed.name}: ${packed.file} (${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked)`);
    return packed;
  });
}

function stage(spec: PackageSpec, versions: Record<string, string>): string {
  const dir = join(STAGE, spec.dir);
  for (const folder of spec.compiled) cpSync(join(BUILD, folder), join(dir, folder), { recursive: true });
  mkdirSync(join(dir, 'scenarios'), { recursive: true });
  for (const file of readdirSync(join(ROOT, 'scenarios'))) {
    if (file.endsWith('.yaml') || file.endsWith('.json')) copyFileSync(join(ROOT, 'scenarios', file), join(dir, 'scenarios', file));
  }
  copyFileSync(join(ROOT, 'packages', spec.dir, 'README.md'), join(dir, 'README.md'));
  copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  copyFileSync(join(ROOT, 'CHANGELOG.md'), join(dir, 'CHANGELOG.md'));
  const pick = (names: string[]) => Object.fromEntries(names.map((name) => [name, versionOf(name, versions)]));
  const manifest = {
    ...spec.manifest,
    dependencies: pick(spec.dependencies),
    ...(spec.peerDependencies && { peerDependencies: pick(spec.peerDependencies) }),
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

function versionOf(name: string, versions: Record<string, string>): string {
  const version = versions[name];
  if (version === undefined) throw new Error(`${name} is not a dependency in the root package.json`);
  return version;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  packAll((line) => console.log(line));
}
