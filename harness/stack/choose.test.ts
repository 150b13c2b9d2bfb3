import { describe, expect, it } from 'vitest';
import { chooseStack, type Readiness } from './choose.js';

const missing = async (): Promise<Readiness> => ({ ready: false, problem: 'image(s) not in the engine: testcontainers/ryuk:0.14.0 (Testcontainers)' });
const ready = async (): Promise<Readiness> => ({ ready: true, found: 'Docker 20.10.24, Compose 2.26.1, every image present' });

describe('chooseStack', () => {
  it('runs processes when asked, without looking for an engine', async () => {
    const never = () => Promise.reject(new Error('must not probe'));
    expect((await chooseStack('processes', never)).stack.name).toBe('processes');
  });

  it('falls back to processes on auto when anything is missing, and says what', async () => {
    const chosen = await chooseStack('auto', missing, '--stack');
    expect(chosen.stack.name).toBe('processes');
    expect(chosen.note).toBe(
      '--stack=auto: child processes, because the container stack cannot run here (image(s) not in the engine: testcontainers/ryuk:0.14.0 (Testcontainers))',
    );
  });

  it('uses containers on auto when everything is there, and says what it found', async () => {
    const chosen = await chooseStack('auto', ready);
    expect(chosen.stack.name).toBe('containers');
    expect(chosen.note).toBe('E2E_STACK=auto: containers (docker-compose.test.yml): Docker 20.10.24, Compose 2.26.1, every image present');
  });

  it('fails, not falls back, when containers are required and something is missing', async () => {
    await expect(chooseStack('containers', missing)).rejects.toThrow(
      'E2E_STACK=containers, but the container stack cannot run here: image(s) not in the engine: testcontainers/ryuk:0.14.0 (Testcontainers). Run `npm run containers:prepare` first.',
    );
  });

  it('rejects an unknown choice', async () => {
    await expect(chooseStack('vm', ready, '--stack')).rejects.toThrow('--stack must be processes, containers, inline or auto, got "vm"');
  });
});
