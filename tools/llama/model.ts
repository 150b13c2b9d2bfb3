/**
 * The tiny model on disk: written to the cache once per seed, atomically (temp file + rename), and rewritten
 * only when the generator's bytes differ from the file (so a change to the generator can never leave a stale
 * model in the cache). Generating takes a few milliseconds, so checking is cheap.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_SEED, tinyModelGguf } from './gguf/tiny-model.js';
import { cacheRoot, modelPath } from './paths.js';

export interface EnsureModelOptions {
  /** Weight seed. Default 42. */
  seed?: number;
  /** Cache root. Default: cacheRoot(). */
  root?: string;
  /** Where to write instead of the cache path. */
  path?: string;
}

export interface EnsuredModel {
  path: string;
  bytes: number;
  /** False when the file already held exactly these bytes. */
  written: boolean;
}

/** Makes sure the tiny model for `seed` is on disk and current; returns where. */
export async function ensureTinyModel(options: EnsureModelOptions = {}): Promise<EnsuredModel> {
  const seed = options.seed ?? DEFAULT_SEED;
  const path = options.path ?? modelPath(seed, options.root ?? cacheRoot());
  const bytes = tinyModelGguf({ seed });
  if (existsSync(path) && readFileSync(path).equals(bytes)) return { path, bytes: bytes.length, written: false };
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial-${process.pid}`;
  await writeFile(partial, bytes);
  await rename(partial, path);
  return { path, bytes: bytes.length, written: true };
}
