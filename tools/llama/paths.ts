/**
 * Where the llama tooling keeps what it makes: outside the repository, so clean clones and CI runs on the same
 * machine share one ~10 minute llama-server build.
 *
 *   $HOLDLINE_CACHE_DIR (default ~/.cache/holdline)/
 *     llama-server/<llama.cpp commit>/llama-server   the built server (moved into place only when complete)
 *     llama-server/<commit>.lock/                    held while a build runs (holds the builder's pid)
 *     llama-server/.build-<commit>-<pid>/            a build in progress (source checkout + cmake tree)
 *     models/tiny-llama-seed<seed>.gguf              the tiny model
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of holdline's caches: `HOLDLINE_CACHE_DIR`, else `~/.cache/holdline`. Read on each call. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.HOLDLINE_CACHE_DIR?.trim();
  return override ? override : join(homedir(), '.cache', 'holdline');
}

/** Folder of llama-server builds (one subfolder per llama.cpp commit). */
export function serverCacheDir(root = cacheRoot()): string {
  return join(root, 'llama-server');
}

/** Where the llama-server built from `commit` lives. */
export function cachedServerBin(commit: string, root = cacheRoot()): string {
  return join(serverCacheDir(root), commit, 'llama-server');
}

/** Where the tiny model for `seed` lives. */
export function modelPath(seed: number, root = cacheRoot()): string {
  return join(root, 'models', `tiny-llama-seed${seed}.gguf`);
}

/** This folder (tools/llama), which holds its own node_modules with node-llama-cpp. */
export const toolsDir = dirname(fileURLToPath(import.meta.url));

/** The installed node-llama-cpp package (installed by the root `postinstall`). */
export const nodeLlamaCppDir = join(toolsDir, 'node_modules', 'node-llama-cpp');
