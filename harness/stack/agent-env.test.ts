import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../contract/scenario/load.js';
import { agentProcessEnv, redactor, scenarioAgentVars, secretsOf } from './agent-env.js';
import { REHEARSAL_API_KEY } from './stack.js';

const scenario = parseScenario(
  `name: x
description: d
agent:
  models: [a/one:free, b/two]
  env: { HOLD_MESSAGE: "One moment.", STT_API_KEY: sk-secret-stt }
`,
  'x.yaml',
);
const urls = { openrouterBaseURL: 'http://127.0.0.1:4010/api/v1', localBaseURL: 'http://127.0.0.1:9999/v1', localModel: 'holdline-tiny' };

describe('the agent environment of a rehearsal', () => {
  it('comes from the scenario: dummy key, the fake, the chain, the local server, then agent.env', () => {
    expect(scenarioAgentVars(scenario, urls)).toEqual({
      OPENROUTER_API_KEY: REHEARSAL_API_KEY,
      OPENROUTER_BASE_URL: 'http://127.0.0.1:4010/api/v1',
      LLM_MODEL: 'a/one:free,b/two',
      LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9999/v1',
      LOCAL_LLM_MODEL: 'holdline-tiny',
      LOG_LEVEL: 'info',
      HOLD_MESSAGE: 'One moment.',
      STT_API_KEY: 'sk-secret-stt',
    });
  });

  it("keeps the parent's PATH but none of its holdline settings, nor the checkout's .env", () => {
    const env = agentProcessEnv(scenario, urls, { PATH: '/bin', LLM_MODEL: 'real/model', RETRY_WINDOW_MS: '5', OPENROUTER_API_KEY: 'sk-or-real' });
    expect(env.PATH).toBe('/bin');
    expect(env.LLM_MODEL).toBe('a/one:free,b/two');
    expect(env.RETRY_WINDOW_MS).toBeUndefined();
    expect(env.OPENROUTER_API_KEY).toBe(REHEARSAL_API_KEY);
    expect(env.DOTENV_CONFIG_PATH).toBe('/dev/null');
  });

  it('never lets LOG_LEVEL hide the line the runner waits for', () => {
    const quiet = { ...scenario, agent: { ...scenario.agent, env: { LOG_LEVEL: 'warn' } } };
    expect(scenarioAgentVars(quiet, urls).LOG_LEVEL).toBe('info');
  });

  it('masks the dummy key and any key agent.env sets', () => {
    const mask = redactor(secretsOf(scenario));
    expect(mask(`Bearer ${REHEARSAL_API_KEY} and sk-secret-stt`)).toBe('Bearer [redacted] and [redacted]');
  });
});
