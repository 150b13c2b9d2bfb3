import { describe, expect, it } from 'vitest';
import { chooseStack } from './choose.js';

const noDocker = async () => 'Could not find a working container runtime strategy';
const docker = async () => undefined;

describe('chooseStack', () => {
  it('runs processes when asked', async () => {
    expect((await chooseStack('processes', noDocker)).stack.name).toBe('processes');
  });

  it('falls back to processes on auto without Docker, and says so', async () => {
    const chosen = await chooseStack('auto', noDocker);
    expect(chosen.stack.name).toBe('processes');
    expect(chosen.note).toBe('E2E_STACK=auto: no Docker engine answers (Could not find a working container runtime strategy); falling back to child processes');
  });

  it('uses containers on auto when Docker answers', async () => {
    expect((await chooseStack('auto', docker)).stack.name).toBe('containers');
  });

  it('fails, not skips, when containers are required and Docker is absent', async () => {
    await expect(chooseStack('containers', noDocker)).rejects.toThrow('E2E_STACK=containers, but no Docker engine answers: Could not find');
  });

  it('rejects an unknown choice', async () => {
    await expect(chooseStack('vm', docker)).rejects.toThrow('E2E_STACK must be processes, containers or auto, got "vm"');
  });
});
