import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseScenario } from '../../contract/scenario/load.js';
import { CLOCK_TOKEN_ENV } from '../../contract/time/shared-clock.js';
import { AGENT_COMMAND, agentContainers, agentServices, buildCaOverride, CLOCK_HOST, CLOSED_LOCAL_URL, COMPOSE_REDIS_URL, composeOverride, FAKE_COMMAND } from './compose-override.js';
import { REPO_ROOT } from './services.js';
import { REHEARSAL_API_KEY } from './stack.js';

const scenario = (local: boolean) =>
  parseScenario(`name: mine\ndescription: d\nagent: { models: [a/one, b/two], local: ${local}, env: { RETRY_WINDOW_MS: "30000" } }\n`, 'mine.yaml');
/** The rig's image as rig-image.ts tags it. */
const IMAGE = 'holdline-rig:0123456789ab';
// Compose's `!reset` tag, read as what it does.
const read = (yaml: string) => parse(yaml, { customTags: [{ tag: '!reset', resolve: () => 'RESET' }] }) as { services: Record<string, Record<string, unknown>> };
/** What every fake and agent service gets: the prebuilt image, no build, no healthcheck to run. */
const PREBUILT = { image: IMAGE, build: 'RESET', healthcheck: { disable: true } };

describe('composeOverride', () => {
  it("sets the agent's environment from the scenario, with the services' in-network addresses", () => {
    const { yaml, scenarioRef } = composeOverride(scenario(true), '/repo/scenarios/mine.yaml', true, IMAGE);
    expect(scenarioRef).toBe('mine');
    expect(read(yaml)).toEqual({
      services: {
        fake: PREBUILT,
        agent: {
          ...PREBUILT,
          // Started at once: its command waits for the fake (docker/when-listening.sh), the harness for llama.cpp.
          depends_on: 'RESET',
          environment: {
            OPENROUTER_API_KEY: REHEARSAL_API_KEY,
            OPENROUTER_BASE_URL: 'http://fake:4010/api/v1',
            LLM_MODEL: 'a/one,b/two',
            LOCAL_LLM_BASE_URL: 'http://llama_cpp:8080/v1',
            LOCAL_LLM_MODEL: 'holdline-tiny',
            LOG_LEVEL: 'info',
            RETRY_WINDOW_MS: '30000',
          },
        },
      },
    });
  });

  it('points the agent at a closed port when the scenario has no local server', () => {
    const { yaml } = composeOverride(scenario(false), '/repo/scenarios/mine.yaml', true, IMAGE);
    expect((read(yaml) as unknown as { services: { agent: { environment: Record<string, string> } } }).services.agent.environment.LOCAL_LLM_BASE_URL).toBe(
      CLOSED_LOCAL_URL,
    );
  });

  it("escapes a scenario's dollars, which Compose would otherwise read as variables", () => {
    const priced = parseScenario('name: mine\ndescription: d\nagent: { models: [a/one], env: { HOLD_MESSAGE: "That is $5, ${X}" } }\n', 'mine.yaml');
    const { yaml } = composeOverride(priced, '/home/me/$dir/mine.yaml', false, IMAGE);
    const doc = read(yaml) as { services: { agent: { environment: Record<string, string> }; fake: { volumes: string[] } } };
    expect(doc.services.agent.environment.HOLD_MESSAGE).toBe('That is $$5, $${X}');
    expect(doc.services.fake.volumes).toEqual(['/home/me/$$dir/mine.yaml:/app/rehearsal/mine.yaml:ro']);
  });

  it('runs a fleet as one agent container per call, each given the redis service as REDIS_URL', () => {
    const fleet = parseScenario('name: mine\ndescription: d\nagent: { models: [a/one], redis: true }\ncalls: 4\n', 'mine.yaml');
    const agent = (read(composeOverride(fleet, '/repo/scenarios/mine.yaml', true, IMAGE).yaml) as { services: { agent: { scale?: number; environment: Record<string, string> } } }).services.agent;
    expect(agent.scale).toBe(4);
    expect(agent.environment.REDIS_URL).toBe(COMPOSE_REDIS_URL);
  });

  it('leaves one call without Redis as it was: no scale, no REDIS_URL', () => {
    const agent = (read(composeOverride(scenario(false), '/repo/scenarios/mine.yaml', true, IMAGE).yaml) as { services: { agent: Record<string, unknown> & { environment: Record<string, string> } } }).services.agent;
    expect(agent).not.toHaveProperty('scale');
    expect(agent.environment).not.toHaveProperty('REDIS_URL');
  });

  it('mounts a scenario from outside the library into the fake', () => {
    const { yaml, scenarioRef } = composeOverride(scenario(false), '/home/me/mine.yaml', false, IMAGE);
    expect(scenarioRef).toBe('/app/rehearsal/mine.yaml');
    expect(read(yaml).services.fake).toEqual({ ...PREBUILT, volumes: ['/home/me/mine.yaml:/app/rehearsal/mine.yaml:ro'] });
  });

  it("hands the CA file to both builds as a BuildKit secret, never as an argument or a file in the context", () => {
    expect(parse(buildCaOverride('/repo', '/etc/ssl/$corp.pem'))).toEqual({
      services: {
        agent: { build: { context: '/repo', secrets: ['host_ca'] } },
        fake: { build: { context: '/repo', secrets: ['host_ca'] } },
      },
      secrets: { host_ca: { file: '/etc/ssl/$$corp.pem' } },
    });
  });

  describe('on the runner\'s virtual time', () => {
    const clock = { port: 41234, composeFile: '/repo/docker-compose.test.yml' };

    it('has the fake and the agent join the clock on the engine host, the secret only as a variable of docker compose', () => {
      const { yaml, scenarioRef } = composeOverride(scenario(false), '/repo/scenarios/mine.yaml', true, IMAGE, clock);
      const { services } = read(yaml);
      expect(services.fake).toEqual({
        ...PREBUILT,
        command: [...FAKE_COMMAND, scenarioRef, '--clock', `${CLOCK_HOST}:41234`],
        environment: { [CLOCK_TOKEN_ENV]: `\${${CLOCK_TOKEN_ENV}}` },
        extra_hosts: [`${CLOCK_HOST}:host-gateway`],
      });
      expect(services.agent?.command).toEqual([...AGENT_COMMAND, '--clock', `${CLOCK_HOST}:41234`, '--clock-name', 'agent']);
      expect(services.agent?.extra_hosts).toEqual([`${CLOCK_HOST}:host-gateway`]);
      expect(services.agent).toMatchObject({ ...PREBUILT, depends_on: 'RESET' });
      expect((services.agent?.environment as Record<string, string>)[CLOCK_TOKEN_ENV]).toBe(`\${${CLOCK_TOKEN_ENV}}`);
      expect(services.agent).not.toHaveProperty('scale');
      expect(agentContainers(1, true)).toEqual(['agent-1']);
    });

    it('gives every call of a fleet its own agent service, so each its own name on the clock, on the one prebuilt image', () => {
      const fleet = parseScenario('name: mine\ndescription: d\nagent: { models: [a/one], redis: true }\ncalls: 3\n', 'mine.yaml');
      const { services } = read(composeOverride(fleet, '/repo/scenarios/mine.yaml', true, IMAGE, clock).yaml);
      expect(Object.keys(services).sort()).toEqual(['agent', 'agent-2', 'agent-3', 'fake']);
      expect(services.agent).not.toHaveProperty('scale');
      expect((services.agent?.command as string[]).slice(-2)).toEqual(['--clock-name', 'agent-1']);
      expect(services['agent-3']).toMatchObject({ extends: { file: '/repo/docker-compose.test.yml', service: 'agent' }, ...PREBUILT, depends_on: 'RESET' });
      expect((services['agent-3']?.command as string[]).slice(-2)).toEqual(['--clock-name', 'agent-3']);
      expect((services['agent-3']?.environment as Record<string, string>).REDIS_URL).toBe(COMPOSE_REDIS_URL);
      // Every call starts once Redis listens too: a refused first connection would reconnect on the clock in some runs only.
      const waits = (name: string) => (services[name]?.command as string[]).slice(0, (services[name]?.command as string[]).indexOf('--'));
      for (const name of ['agent', 'agent-2', 'agent-3']) expect(waits(name), name).toEqual(['bash', 'docker/when-listening.sh', 'fake', '4010', 'redis', '6379']);
      // Compose's names for them: service-index.
      expect(agentContainers(3, true)).toEqual(['agent-1', 'agent-2-1', 'agent-3-1']);
      expect(agentContainers(3, false)).toEqual(['agent-1', 'agent-2', 'agent-3']);
      // The services to start: each by name on the clock, one scaled service on wall time.
      expect(agentServices(3, true)).toEqual(['agent', 'agent-2', 'agent-3']);
      expect(agentServices(3, false)).toEqual(['agent']);
    });

    it('mounts a scenario from outside the library and plays that file', () => {
      const { services } = read(composeOverride(scenario(false), '/home/me/$x.yaml', false, IMAGE, clock).yaml);
      expect(services.fake?.volumes).toEqual(['/home/me/$$x.yaml:/app/rehearsal/$$x.yaml:ro']);
      expect((services.fake?.command as string[]).slice(-3)).toEqual(['/app/rehearsal/$$x.yaml', '--clock', `${CLOCK_HOST}:41234`]);
    });

    it("keeps docker-compose.test.yml's commands, with --clock in place of --speed", () => {
      const base = parse(readFileSync(join(REPO_ROOT, 'docker-compose.test.yml'), 'utf8')) as { services: Record<string, { command: string[] }> };
      const withoutSpeed = (command: string[] | undefined) => {
        const list = [...(command ?? [])];
        list.splice(list.indexOf('--speed'), 2);
        return list;
      };
      const fake = withoutSpeed(base.services.fake?.command);
      // The fake's scenario goes last in the override's (after --scenario), wherever the file has it.
      const at = fake.indexOf('--scenario');
      expect([...fake.slice(0, at), ...fake.slice(at + 2), '--scenario']).toEqual(FAKE_COMMAND);
      expect(withoutSpeed(base.services.agent?.command)).toEqual(AGENT_COMMAND);
    });
  });
});
