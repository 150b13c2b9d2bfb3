/**
 * Builds llama.cpp's `llama-server` from the source bundle inside node-llama-cpp, once per llama.cpp commit,
 * into the cache (see paths.ts). About 10 minutes on 2 cores; a second call finds the binary and returns.
 *
 * The build runs in a scratch folder next to the cache entry and the binary is renamed into place only when
 * complete, so an interrupted build never leaves a half binary; the scratch folder is removed on success,
 * failure and abort, and a later build removes any left by a killed one.
 */
import { constants, existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheRoot, cachedServerBin, serverCacheDir } from '../paths.js';
import { cmakeProgressReporter, type LlamaProgress } from './progress.js';
import { tryLock, waitForUnlock } from '../../kit/lock.js';
import { run, type RunOptions } from '../../kit/run-command.js';
import { sourceBundlePath, sourceCommit } from './source.js';
import { checkToolchain } from './toolchain.js';

export interface BuildOptions {
  /** Progress lines (phases, throttled compile percentage). */
  onProgress?: (progress: LlamaProgress) => void;
  /** Aborting stops the build (kills cmake and the compilers) and removes its scratch folder. */
  signal?: AbortSignal;
  /** Cache root. Default: cacheRoot() (HOLDLINE_CACHE_DIR or ~/.cache/holdline). */
  root?: string;
  /** Parallel compile jobs. Default 2 (these machines have 2 cores). */
  jobs?: number;
}

/**
 * cmake flags: a static, CPU-only server without the web UI (which would need npm at build time) or
 * OpenSSL, and none of the tests and examples it does not need.
 */
export const CMAKE_FLAGS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DBUILD_SHARED_LIBS=OFF',
];

/** The C locale: the compile progress is read from cmake's English output. */
const BUILD_ENV = { ...process.env, LC_ALL: 'C' };

/** The cached llama-server for the bundled llama.cpp commit, if it has been built. */
export function findBuiltServer(root = cacheRoot()): string | undefined {
  const bin = cachedServerBin(sourceCommit(), root);
  return existsSync(bin) ? bin : undefined;
}

/** Returns the path of the cached llama-server, building it first if needed (or waiting for another build). */
export async function buildLlamaServer(options: BuildOptions = {}): Promise<string> {
  const { onProgress = () => {}, signal, root = cacheRoot(), jobs = 2 } = options;
  const commit = sourceCommit();
  const bin = cachedServerBin(commit, root);
  const lockDir = join(serverCacheDir(root), `${commit}.lock`);
  await mkdir(serverCacheDir(root), { recursive: true });
  for (;;) {
    if (existsSync(bin)) return bin;
    const lock = await tryLock(lockDir, 'the build lock');
    if (lock.acquired) {
      try {
        if (existsSync(bin)) return bin;
        await build(commit, bin, root, jobs, onProgress, signal);
        return bin;
      } finally {
        await lock.release();
      }
    }
    onProgress({ phase: 'wait', message: `another process (pid ${lock.holder}) is building llama-server; waiting for it` });
    await waitForUnlock(lockDir, signal);
  }
}

async function build(
  commit: string,
  bin: string,
  root: string,
  jobs: number,
  onProgress: (progress: LlamaProgress) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  onProgress({ phase: 'check', message: 'checking for cmake, make, a C/C++ compiler and git' });
  await checkToolchain();
  await removeStaleScratch(root, commit);
  const scratch = join(serverCacheDir(root), `.build-${commit}-${process.pid}`);
  const started = Date.now();
  try {
    await mkdir(scratch, { recursive: true });
    const src = join(scratch, 'src');
    const out = join(scratch, 'build');
    onProgress({ phase: 'source', message: `extracting llama.cpp ${commit.slice(0, 12)} from node-llama-cpp's source bundle` });
    // Each step in its own process group (cmake, make, the compilers), killed whole on abort and when we go.
    const step: RunOptions = { signal, group: true, env: BUILD_ENV };
    await run('git', ['clone', '--quiet', sourceBundlePath(), src], step);
    onProgress({ phase: 'configure', message: 'configuring (cmake)' });
    await run('cmake', ['-S', src, '-B', out, ...CMAKE_FLAGS], step);
    onProgress({ phase: 'compile', message: `compiling llama-server with ${jobs} jobs (about 10 minutes on 2 cores)` });
    await run('cmake', ['--build', out, '--target', 'llama-server', `-j${jobs}`], { ...step, onLine: cmakeProgressReporter(onProgress) });
    const built = join(out, 'bin', 'llama-server');
    await access(built, constants.X_OK);
    // Copy next to the final name, then rename: atomic within one filesystem.
    await mkdir(dirname(bin), { recursive: true });
    const partial = `${bin}.partial-${process.pid}`;
    await copyFile(built, partial);
    await chmod(partial, 0o755);
    await rename(partial, bin);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    onProgress({ phase: 'install', message: `llama-server built in ${minutes} min: ${bin}` });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Scratch folders of this commit's builds whose process is gone (we hold the lock, so all of them). */
async function removeStaleScratch(root: string, commit: string): Promise<void> {
  const dir = serverCacheDir(root);
  for (const name of await readdir(dir)) {
    if (name.startsWith(`.build-${commit}-`)) await rm(join(dir, name), { recursive: true, force: true });
  }
  const binDir = join(dir, commit);
  if (existsSync(binDir)) {
    for (const name of await readdir(binDir)) {
      if (name.includes('.partial-')) await rm(join(binDir, name), { force: true });
    }
  }
}
