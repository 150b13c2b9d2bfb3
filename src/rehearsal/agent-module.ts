/**
 * Your own agent in a rehearsal (`npm run scenario -- <name> --agent ./my-agent.ts`). The module contract:
 *
 *   // my-agent.ts
 *   import { voice } from '@livekit/agents';
 *   import type { AgentModuleContext } from 'holdline';
 *   export default function createAgent(ctx: AgentModuleContext): voice.Agent | Promise<voice.Agent> {
 *     return new voice.Agent({ instructions: '...', tools: { ... }, llm: ... });  // its own LLM, required
 *   }
 *
 * The default export is a factory (called once, for the one session) or a `voice.Agent` itself. The agent
 * brings its own LLM (holdline's chain, LiveKit's FallbackAdapter, anything `llm.LLM`); the rehearsal brings the
 * session, the recording TTS and the speaker, so the agent must not set `stt`, `tts` or `vad` itself. The
 * context (also in process.env as OPENROUTER_BASE_URL, OPENROUTER_API_KEY, LLM_MODEL, LOCAL_LLM_BASE_URL,
 * LOCAL_LLM_MODEL) points it at the fake. Every way a module can break this gets one clear message naming the file.
 */
import { voice } from '@livekit/agents';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../config.js';
import { ensureFrameworkLogger } from '../framework-logger.js';
import { withRehearsal, type RehearsalContext } from '../package/rehearsal-context.js';

/** What the factory is given: where OpenRouter (the fake) and the local server are, and the scenario's chain. */
export interface AgentModuleContext {
  /** The scenario's OpenRouter chain (`agent.models`), first choice first. */
  models: string[];
  openrouter: { baseURL: string; apiKey: string };
  local: { baseURL: string; model: string };
}

export type AgentFactory = (ctx: AgentModuleContext) => voice.Agent | Promise<voice.Agent>;

export class AgentModuleError extends Error {
  constructor(file: string, problem: string) {
    super(`agent module ${file}: ${problem}\n  (the contract: export default a function that returns a voice.Agent with its own llm; see README "Rehearse your own agent")`);
    this.name = 'AgentModuleError';
  }
}

export function contextFrom(config: Config): AgentModuleContext {
  return {
    models: [...config.openrouter.models],
    openrouter: { baseURL: config.openrouter.baseURL, apiKey: config.openrouter.apiKey ?? '' },
    local: { baseURL: config.local.baseURL, model: config.local.model },
  };
}

/** Imports the module, builds its agent inside the rehearsal, and checks it. Throws `AgentModuleError`. */
export async function loadAgentModule(path: string, ctx: AgentModuleContext, rehearsal: RehearsalContext): Promise<voice.Agent> {
  // Relative when under the working directory (the repository), else as given (a package's child runs elsewhere).
  const shown = relative(process.cwd(), path);
  const file = shown && !shown.startsWith('..') ? shown : path;
  const fail = (problem: string): never => {
    throw new AgentModuleError(file, problem);
  };
  if (!existsSync(path)) fail('no such file');
  // Plugins' LLMs log through the framework's logger from their constructors.
  ensureFrameworkLogger();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    return fail(`could not be loaded: ${(error as Error).message}`);
  }
  const exported = mod.default;
  if (exported === undefined) {
    const named = Object.keys(mod);
    fail(`has no default export${named.length > 0 ? ` (it exports ${named.join(', ')})` : ''}`);
  }
  let agent: unknown = exported;
  if (typeof exported === 'function') {
    if (/^class[\s{]/.test(Function.prototype.toString.call(exported))) {
      fail('its default export is a class; export a function that constructs it: export default () => new MyAgent({ ... })');
    }
    try {
      agent = await withRehearsal(rehearsal, () => (exported as AgentFactory)(ctx));
    } catch (error) {
      return fail(`its default export threw: ${(error as Error).message}`);
    }
  }
  return checkAgent(agent, fail);
}

function checkAgent(agent: unknown, fail: (problem: string) => never): voice.Agent {
  if (!(agent instanceof voice.Agent)) {
    const name = (agent as { constructor?: { name?: string } } | null)?.constructor?.name;
    if (agent !== null && typeof agent === 'object' && 'instructions' in agent && 'llm' in agent) {
      fail(`returned a ${name ?? 'agent'} from another copy of @livekit/agents; install one copy (npm ls @livekit/agents)`);
    }
    fail(`expected a voice.Agent, got ${agent === null ? 'null' : name && typeof agent === 'object' ? `a ${name}` : typeof agent}`);
  }
  const own = agent as voice.Agent;
  if (own.llm === undefined) fail('the agent has no LLM of its own: pass one, new voice.Agent({ instructions, llm })');
  if (!('chat' in (own.llm as object))) fail('the agent has a realtime model; a rehearsal plays text turns through an llm.LLM');
  const extra = (['stt', 'tts', 'vad'] as const).filter((k) => own[k] !== undefined);
  if (extra.length > 0) fail(`the agent sets its own ${extra.join(', ')}; in a rehearsal speech is recorded, so give those to your AgentSession instead`);
  return own;
}
