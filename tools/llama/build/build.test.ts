/** The build's guards; the build itself runs once per machine in the global setup (see ensure.test.ts). */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildLlamaServer } from './build-server.js';
import { tryLock } from './lock.js';
import { sourceCommit } from './source.js';
import { checkToolchain } from './toolchain.js';

const scratch = mkdtempSync(join(tmpdir(), 'holdline-build-'));

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
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

  it('lets one builder hold the lock and takes over a lock whose holder died', async () => {
    const lockDir = join(scratch, 'x.lock');
    const holder = spawn('sleep', ['60']);
    await once(holder, 'spawn');
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(holder.pid));
    expect(await tryLock(lockDir)).toEqual({ acquired: false, holder: holder.pid });
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const lock = await tryLock(lockDir);
    expect(lock.acquired).toBe(true);
    if (lock.acquired) await lock.release();
  });
});
