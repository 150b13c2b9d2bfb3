/**
 * The agent's environment for a rehearsal, from the scenario alone: the dummy key, the fake as OpenRouter,
 * the scenario's model chain, the local server (or a closed port), then `agent.env` on top. Nothing of the
 * user's own holdline configuration (their shell or `.env`) leaks in, so a rehearsal plays the same anywhere.
 */
import { CONFIG_ENV_VARS } from '../../src/config.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { REHEARSAL_API_KEY } from './stack.js';

export interface AgentUrls {
  /** The fake's OpenAI-style base URL (`.../api/v1`). */
  openrouterBaseURL: string;
  /** llama-server's base URL (`.../v1`), or one where nothing listens when `agent.local` is false. */
  localBaseURL: string;
  /** The model name llama-server answers to. */
  localModel: string;
}

/** Log levels that would hide the "rehearsal agent listening" line the runner waits for. */
const TOO_QUIET = new Set(['warn', 'error', 'fatal', 'silent']);

/** The variables a scenario decides (what a compose override or a child's env must carry). */
export function scenarioAgentVars(scenario: Scenario, urls: AgentUrls): Record<string, string> {
  const vars: Record<string, string> = {
    OPENROUTER_API_KEY: REHEARSAL_API_KEY,
    OPENROUTER_BASE_URL: urls.openrouterBaseURL,
    LLM_MODEL: scenario.agent.models.join(','),
    LOCAL_LLM_BASE_URL: urls.localBaseURL,
    LOCAL_LLM_MODEL: urls.localModel,
    LOG_LEVEL: 'info',
    ...scenario.agent.env,
  };
  if (TOO_QUIET.has(vars.LOG_LEVEL ?? '')) vars.LOG_LEVEL = 'info';
  return vars;
}

/** A child's full environment: the parent's minus any holdline setting, plus the scenario's variables. */
export function agentProcessEnv(scenario: Scenario, urls: AgentUrls, parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const config = new Set<string>(CONFIG_ENV_VARS);
  const inherited = Object.fromEntries(Object.entries(parent).filter(([key]) => !config.has(key)));
  // The agent loads `.env` from its working directory; a rehearsal must not pick up the checkout's own.
  return { ...inherited, DOTENV_CONFIG_PATH: '/dev/null', ...scenarioAgentVars(scenario, urls) };
}

/** Every secret the agent may hold in a rehearsal: the dummy key and any key `agent.env` sets. */
export function secretsOf(scenario: Scenario): string[] {
  const fromScenario = Object.entries(scenario.agent.env)
    .filter(([key]) => /KEY|SECRET|TOKEN/i.test(key))
    .map(([, value]) => value);
  return [REHEARSAL_API_KEY, ...fromScenario].filter((s) => s.length >= 4);
}

/** Masks every secret in a line of output. */
export function redactor(secrets: string[]): (line: string) => string {
  return (line) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), line);
}
