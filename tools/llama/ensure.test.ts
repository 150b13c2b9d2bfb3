import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { findServerBin, ensureLlama, resolveServerBin } from './ensure.js';
import { ensureTinyModel } from './model.js';
import { cacheRoot } from './paths.js';
import { startLlamaServer } from './server/start.js';
import { tempDir } from '../../test/kit/temp.js';

const scratch = tempDir('ensure');

beforeAll(async () => {
  await ensureLlama();
}, 20 * 60_000);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('ensureLlama', () => {
  it('is instant the second time and finds the same files', async () => {
    const first = await ensureLlama();
    const started = performance.now();
    const progress: string[] = [];
    const second = await ensureLlama({ onProgress: (p) => progress.push(p.message) });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(second).toEqual(first);
    expect(progress).toEqual([]); // nothing built or written
    expect(second.serverBin).toMatch(/llama-server\/[0-9a-f]{40}\/llama-server$/);
  });

  it('uses LLAMA_SERVER_BIN when set', async () => {
    const { serverBin } = await ensureLlama();
    vi.stubEnv('LLAMA_SERVER_BIN', serverBin);
    expect(resolveServerBin()).toBe(serverBin);
    expect((await ensureLlama()).serverBin).toBe(serverBin);
  });

  it('gives a clear error for a LLAMA_SERVER_BIN that does not exist, instead of building', async () => {
    vi.stubEnv('LLAMA_SERVER_BIN', '/nonexistent/llama-server');
    const expected = /LLAMA_SERVER_BIN=\/nonexistent\/llama-server does not exist/;
    await expect(ensureLlama()).rejects.toThrow(expected);
    expect(() => findServerBin()).toThrow(expected);
    await expect(startLlamaServer()).rejects.toThrow(expected);
  });

  it('rejects a LLAMA_SERVER_BIN that is not executable', () => {
    const file = join(scratch, 'not-executable');
    writeFileSync(file, 'text', { mode: 0o644 });
    vi.stubEnv('LLAMA_SERVER_BIN', file);
    expect(() => resolveServerBin()).toThrow(/is not executable/);
  });

  it('says how to build when nothing is built', () => {
    expect(() => findServerBin(join(scratch, 'empty-cache'))).toThrow(/npm run llama:build/);
  });
});

describe('cache location', () => {
  it('is ~/.cache/holdline unless HOLDLINE_CACHE_DIR says otherwise', () => {
    expect(cacheRoot({ HOME: '/home/x' })).toMatch(/\.cache\/holdline$/);
    expect(cacheRoot({ HOLDLINE_CACHE_DIR: '/tmp/hl' })).toBe('/tmp/hl');
  });
});

describe('ensureTinyModel', () => {
  it('writes the model once, and rewrites a file that differs', async () => {
    const path = join(scratch, 'models', 'tiny.gguf');
    const first = await ensureTinyModel({ path });
    expect(first.written).toBe(true);
    expect(first.bytes).toBeGreaterThan(200 * 1024);
    expect((await ensureTinyModel({ path })).written).toBe(false);
    writeFileSync(path, 'truncated');
    expect((await ensureTinyModel({ path })).written).toBe(true);
  });

  it('keys the cache by seed under the cache root', async () => {
    const model = await ensureTinyModel({ seed: 7, root: scratch });
    expect(model.path).toBe(join(scratch, 'models', 'tiny-llama-seed7.gguf'));
  });
});
