/** The build's guards; the build itself runs once per machine in the global setup (see ensure.test.ts). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildLlamaServer } from './build-server.js';
import { sourceCommit } from './source.js';
import { checkToolchain } from './toolchain.js';
import { tempDir } from '../../../test/kit/temp.js';

const scratch = tempDir('build');

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('llama-server build', () => {
  it('reads the llama.cpp commit from node-llama-cpp\'s source bundle', () => {
    expect(sourceCommit()).toMatch(/^[0-9a-f]{40}$/);
  });

  it('names the Debian packages when the compilers are missing', async () => {
    const emptyBin = join(scratch, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    vi.stubEnv('PATH', emptyBin);
    await expect(checkToolchain()).rejects.toThrow(/missing: cmake, make, c\+\+, cc, git.*apt-get install cmake make g\+\+ gcc git/);
    // And a build into an empty cache stops there, before touching anything.
    await expect(buildLlamaServer({ root: join(scratch, 'cache') })).rejects.toThrow(/apt-get install cmake g\+\+/);
  });

  it('finds the compilers on this machine', async () => {
    await expect(checkToolchain()).resolves.toBeUndefined();
  });
});
