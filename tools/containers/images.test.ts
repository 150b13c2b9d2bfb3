import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerfileBases, interpolate, RYUK_IMAGE, wantedImages } from './images.js';

const ROOT = join(import.meta.dirname, '../..');

describe('the images the repository names', () => {
  it("finds the Dockerfile's base, each compose service's image (the built ones excepted) and Ryuk's", () => {
    const wanted = wantedImages(ROOT, { LLAMA_CPP_IMAGE: 'ghcr.io/ggml-org/llama.cpp:server-b6000' });
    const byName = Object.fromEntries(wanted.map((w) => [w.name, w]));
    expect(byName['node:20-bookworm-slim']).toMatchObject({ forTests: true, standIn: 'node-base', usedBy: ['Dockerfile FROM'] });
    expect(byName['ghcr.io/ggml-org/llama.cpp:server-b6000']).toMatchObject({ forTests: true, standIn: 'llama-server' });
    expect(byName['livekit/livekit-server:latest']).toMatchObject({ forTests: false });
    // One Redis image for both files: the rig's fleet and production's shared cooldowns.
    expect(byName['redis:7-bookworm']).toMatchObject({ forTests: true, standIn: 'redis-server', usedBy: ['docker-compose.test.yml redis', 'docker-compose.yml redis'] });
    expect(byName[RYUK_IMAGE]).toMatchObject({ forTests: true });
    expect(wanted.some((w) => w.name.startsWith('holdline'))).toBe(false);
  });

  it('leaves Ryuk out when it is disabled', () => {
    expect(wantedImages(ROOT, { TESTCONTAINERS_RYUK_DISABLED: 'true' }).some((w) => w.name === RYUK_IMAGE)).toBe(false);
  });

  it("names the reaper image this testcontainers version runs", () => {
    const require = createRequire(import.meta.url);
    const reaper = readFileSync(join(require.resolve('testcontainers'), '../reaper/reaper.js'), 'utf8');
    expect(reaper).toContain(`ImageName.fromString("${RYUK_IMAGE}")`);
  });

  it("reads FROM lines, skipping the Dockerfile's own stages", () => {
    expect(dockerfileBases('FROM node:20 AS deps\nRUN x\nFROM --platform=linux/amd64 deps\nFROM debian:12\n')).toEqual(['node:20', 'debian:12']);
  });

  it("resolves Compose's ${VAR:-default} forms", () => {
    expect(interpolate('${A:-x}/${B-y}/${C}', { A: '', B: '' })).toBe('x//');
    expect(interpolate('${A:-x}', { A: 'set' })).toBe('set');
  });
});
