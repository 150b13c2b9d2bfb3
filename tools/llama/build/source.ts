/**
 * The llama.cpp source that node-llama-cpp ships inside its npm package (a git bundle), and the commit it
 * holds. The commit keys the llama-server cache, so a node-llama-cpp upgrade builds a fresh server.
 */
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { nodeLlamaCppDir } from '../paths.js';

/** The llama.cpp source bundle inside node-llama-cpp. */
export function sourceBundlePath(packageDir = nodeLlamaCppDir): string {
  return join(packageDir, 'llama', 'gitRelease.bundle');
}

/**
 * The commit the bundle's HEAD points at, read from the bundle's text header (no git needed, so a machine
 * with a cached build but without git still finds it).
 * @throws when node-llama-cpp is not installed or the bundle has no HEAD.
 */
export function sourceCommit(bundle = sourceBundlePath()): string {
  if (!existsSync(bundle)) {
    throw new Error(
      `llama.cpp source bundle not found at ${bundle}. node-llama-cpp is installed by the root postinstall: run \`npm ci\` ` +
        '(or `NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --prefix tools/llama --omit=optional`).',
    );
  }
  // The header ("# v2 git bundle", "<sha> <ref>" lines, blank line) is tiny; 64 KiB is far more than enough.
  const head = Buffer.alloc(64 * 1024);
  const fd = openSync(bundle, 'r');
  let length: number;
  try {
    length = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.subarray(0, length).toString('latin1');
  const headerEnd = text.indexOf('\n\n');
  const header = headerEnd >= 0 ? text.slice(0, headerEnd) : '';
  const match = /^([0-9a-f]{40}) HEAD$/m.exec(header);
  if (!match?.[1]) throw new Error(`${bundle} is not a git bundle with a HEAD (header: ${JSON.stringify(header.slice(0, 200))})`);
  return match[1];
}
