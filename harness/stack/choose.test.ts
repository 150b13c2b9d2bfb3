import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../contract/scenario/load.js';
import { StartError } from '../../tools/kit/start-error.js';
import { chooseStack, fleetStackChoice, type Readiness } from './choose.js';
import { inlineStack } from './inline.js';
import { fleetProblem } from './stack.js';

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

describe('a fleet scenario (calls > 1 or agent.redis) and the stacks', () => {
  const one = parseScenario('name: one\ndescription: d\nagent: { models: [a/b] }\n', 'one.yaml');
  const fleet = parseScenario('name: many\ndescription: d\nagent: { models: [a/b], redis: true }\ncalls: 3\n', 'many.yaml');
  const redisOnly = parseScenario('name: shared\ndescription: d\nagent: { models: [a/b], redis: true }\n', 'shared.yaml');

  it('keeps any choice for one call without Redis', () => {
    for (const choice of ['auto', 'inline', 'containers', 'processes'] as const) expect(fleetStackChoice(one, choice, false)).toEqual({ choice });
  });

  it("keeps auto, processes and containers for a fleet (auto picks containers when they are ready), and turns --json's default inline into processes, saying why", () => {
    for (const choice of ['auto', 'processes', 'containers'] as const) {
      expect(fleetStackChoice(fleet, choice, false)).toEqual({ choice });
      expect(fleetStackChoice(fleet, choice, true)).toEqual({ choice });
    }
    expect(fleetStackChoice(fleet, 'inline', true)).toEqual({
      choice: 'processes',
      note: '--stack=inline (the default): child processes, because many is a fleet (calls: 3, agent.redis), which the inline stack cannot play',
    });
  });

  it('refuses the inline stack asked for by name, saying which part and why', () => {
    expect(fleetStackChoice(fleet, 'inline', false)).toEqual({
      problem: '--stack inline: many asks for calls: 3 and agent.redis, which the inline stack runs one agent in this process: play it with --stack processes (on virtual time: --speed virtual) or --stack containers',
    });
    expect(fleetStackChoice(redisOnly, 'inline', false)).toMatchObject({ problem: expect.stringContaining('shared asks for agent.redis, which the inline stack') });
  });

  it('the inline stack refuses one itself before starting anything; processes and containers take one', async () => {
    const request = { scenario: fleet, scenarioFile: 'many.yaml', speed: 1, progress: () => {} };
    await expect(inlineStack().start(request)).rejects.toThrow(new StartError(fleetProblem(fleet, 'inline') as string));
    expect(fleetProblem(fleet, 'processes')).toBeUndefined();
    expect(fleetProblem(fleet, 'containers')).toBeUndefined();
  });
});
