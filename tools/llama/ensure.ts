/**
 * One call that makes the local llama.cpp usable: the llama-server binary (LLAMA_SERVER_BIN, else the cached
 * build, else built now, about 10 minutes once per machine) and the tiny model (written if missing).
 */
import { constants, accessSync, statSync } from 'node:fs';
import { buildLlamaServer, findBuiltServer } from './build/build-server.js';
import type { LlamaProgress } from './build/progress.js';
import { ensureTinyModel } from './model.js';
import { cacheRoot } from './paths.js';

export interface EnsureLlamaOptions {
  /** Progress lines; the build reports phases and a throttled compile percentage. */
  onProgress?: (progress: LlamaProgress) => void;
  /** Aborts a running build (its scratch folder is removed). */
  signal?: AbortSignal;
  /** Model seed. Default 42. */
  seed?: number;
  /** Cache root. Default: cacheRoot() (HOLDLINE_CACHE_DIR or ~/.cache/holdline). */
  root?: string;
}

export interface LlamaSetup {
  /** Absolute path of the llama-server to run. */
  serverBin: string;
  /** Absolute path of the tiny model GGUF. */
  modelPath: string;
}

/**
 * The binary named by LLAMA_SERVER_BIN, or undefined when it is not set.
 * @throws when it is set but names no executable file, so a typo never silently triggers a 10 minute build.
 */
export function resolveServerBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const bin = env.LLAMA_SERVER_BIN?.trim();
  if (!bin) return undefined;
  let problem: string | undefined;
  try {
    if (!statSync(bin).isFile()) problem = 'is not a file';
    else accessSync(bin, constants.X_OK);
  } catch (error) {
    problem ??= (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not executable';
  }
  if (problem) {
    throw new Error(`LLAMA_SERVER_BIN=${bin} ${problem}. Point it at a llama-server binary, or unset it to use the one built by \`npm run llama:build\`.`);
  }
  return bin;
}

/**
 * The llama-server to run without building anything: LLAMA_SERVER_BIN, else the cached build.
 * @throws when neither exists, saying how to get one.
 */
export function findServerBin(root = cacheRoot()): string {
  const bin = resolveServerBin() ?? findBuiltServer(root);
  if (!bin) {
    throw new Error('llama-server is not built yet: run `npm run llama:build` (about 10 minutes, once per machine) or set LLAMA_SERVER_BIN.');
  }
  return bin;
}

/** Builds llama-server if missing and writes the tiny model if missing; instant when both are cached. */
export async function ensureLlama(options: EnsureLlamaOptions = {}): Promise<LlamaSetup> {
  const { onProgress = () => {}, signal, seed, root = cacheRoot() } = options;
  const serverBin = resolveServerBin() ?? (await buildLlamaServer({ onProgress, signal, root }));
  const model = await ensureTinyModel({ seed, root });
  if (model.written) onProgress({ phase: 'model', message: `wrote the tiny model: ${model.path}` });
  return { serverBin, modelPath: model.path };
}
