import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseScenario } from '../../contract/scenario/load.js';
import { buildCaOverride, CLOSED_LOCAL_URL, COMPOSE_REDIS_URL, composeOverride } from './compose-override.js';
import { REHEARSAL_API_KEY } from './stack.js';

const scenario = (local: boolean) =>
  parseScenario(`name: mine\ndescription: d\nagent: { models: [a/one, b/two], local: ${local}, env: { RETRY_WINDOW_MS: "30000" } }\n`, 'mine.yaml');

describe('composeOverride', () => {
  it("sets the agent's environment from the scenario, with the services' in-network addresses", () => {
    const { yaml, scenarioRef } = composeOverride(scenario(true), '/repo/scenarios/mine.yaml', true);
    expect(scenarioRef).toBe('mine');
    expect(parse(yaml)).toEqual({
      services: {
        agent: {
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
    const { yaml } = composeOverride(scenario(false), '/repo/scenarios/mine.yaml', true);
    expect((parse(yaml) as { services: { agent: { environment: Record<string, string> } } }).services.agent.environment.LOCAL_LLM_BASE_URL).toBe(
      CLOSED_LOCAL_URL,
    );
  });

  it("escapes a scenario's dollars, which Compose would otherwise read as variables", () => {
    const priced = parseScenario('name: mine\ndescription: d\nagent: { models: [a/one], env: { HOLD_MESSAGE: "That is $5, ${X}" } }\n', 'mine.yaml');
    const { yaml } = composeOverride(priced, '/home/me/$dir/mine.yaml', false);
    const doc = parse(yaml) as { services: { agent: { environment: Record<string, string> }; fake: { volumes: string[] } } };
    expect(doc.services.agent.environment.HOLD_MESSAGE).toBe('That is $$5, $${X}');
    expect(doc.services.fake.volumes).toEqual(['/home/me/$$dir/mine.yaml:/app/rehearsal/mine.yaml:ro']);
  });

  it('runs a fleet as one agent container per call, each given the redis service as REDIS_URL', () => {
    const fleet = parseScenario('name: mine\ndescription: d\nagent: { models: [a/one], redis: true }\ncalls: 4\n', 'mine.yaml');
    const agent = (parse(composeOverride(fleet, '/repo/scenarios/mine.yaml', true).yaml) as { services: { agent: { scale?: number; environment: Record<string, string> } } }).services.agent;
    expect(agent.scale).toBe(4);
    expect(agent.environment.REDIS_URL).toBe(COMPOSE_REDIS_URL);
  });

  it('leaves one call without Redis as it was: no scale, no REDIS_URL', () => {
    const agent = (parse(composeOverride(scenario(false), '/repo/scenarios/mine.yaml', true).yaml) as { services: { agent: Record<string, unknown> & { environment: Record<string, string> } } }).services.agent;
    expect(agent).not.toHaveProperty('scale');
    expect(agent.environment).not.toHaveProperty('REDIS_URL');
  });

  it('mounts a scenario from outside the library into the fake', () => {
    const { yaml, scenarioRef } = composeOverride(scenario(false), '/home/me/mine.yaml', false);
    expect(scenarioRef).toBe('/app/rehearsal/mine.yaml');
    expect((parse(yaml) as { services: { fake: unknown } }).services.fake).toEqual({ volumes: ['/home/me/mine.yaml:/app/rehearsal/mine.yaml:ro'] });
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
});
