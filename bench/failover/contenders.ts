/**
 * The contenders of the failover benchmark, all in the same rehearsal session over the same backends:
 * holdline's chain; LiveKit's `llm.FallbackAdapter` configured as LiveKit documents it (every default, the
 * session's default `llmConnOptions`); the same adapter tuned the way its docs suggest for fallback
 * (`llmConnOptions.maxRetry: 0`, so the session does not retry the whole chain on top of the adapter);
 * OpenRouter's server-side `models[]` fallback (the seeds' `with_openrouter(fallback_models=[...])`: one
 * request carrying the whole chain), with the local server behind it through FallbackAdapter as a Node app
 * would layer it; and holdline with `OPENROUTER_SERVER_FALLBACK=true` (models[] inside holdline's chain).
 */
import { llm } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import OpenAI from 'openai';
import type { Backend } from '../../src/chain/backends.js';
import type { Config } from '../../src/config.js';
import type { RehearsalOptions } from '../../src/rehearsal/server.js';

export interface Contender {
  /** Short id for JSON and the command line. */
  id: 'holdline' | 'fallback-default' | 'fallback-tuned' | 'models-fallback' | 'holdline-models';
  /** How the table names it. */
  label: string;
  /** Undefined: holdline's own chain. */
  contender?: RehearsalOptions['contender'];
  /** More agent configuration. */
  env?: Record<string, string>;
}

/**
 * One `openai.LLM` per backend (the plugin's official client with `maxRetries: 0`: the adapter does the
 * retrying), wrapped in a FallbackAdapter with LiveKit's defaults: attemptTimeout 5 s, maxRetryPerLLM 0,
 * retryInterval 0.5 s, retryOnChunkSent false.
 */
export function fallbackAdapterOver({ config, backends }: { config: Config; backends: Backend[] }): llm.LLM {
  const adapter = new llm.FallbackAdapter({ llms: backends.map((backend) => pluginLLM(config, backend)) });
  adapter.on('error', () => {});
  return adapter;
}

/**
 * OpenRouter's `models[]` fallback: the first model's request carries every model of the chain, so OpenRouter
 * moves on server-side (on pre-stream errors it would fall back from; not on a stall, which is a 200). The
 * local server stays behind it through FallbackAdapter with its defaults.
 */
export function modelsFallbackOver({ config, backends }: { config: Config; backends: Backend[] }): llm.LLM {
  const openrouter = backends.filter((b) => b.kind === 'openrouter');
  const [first] = openrouter;
  const rest = backends.filter((b) => b.kind !== 'openrouter');
  const llms = first ? [pluginLLM(config, first, openrouter.map((b) => b.model)), ...rest.map((b) => pluginLLM(config, b))] : rest.map((b) => pluginLLM(config, b));
  const adapter = new llm.FallbackAdapter({ llms });
  adapter.on('error', () => {});
  return adapter;
}

/** The plugin's OpenAI LLM for one backend, `models[]` added to every request when given. */
function pluginLLM(config: Config, backend: Backend, models?: string[]): llm.LLM {
  const client = new OpenAI({
    baseURL: backend.baseURL,
    // The local llama.cpp server takes any key; the SDK insists on one.
    apiKey: backend.kind === 'openrouter' ? (config.openrouter.apiKey ?? '') : 'local',
    maxRetries: 0,
  });
  const model = models ? new WithModels({ model: backend.model, client }, models) : new openaiPlugin.LLM({ model: backend.model, client });
  // The plugin reports stream errors as 'error' events; an EventEmitter without a listener would throw them.
  model.on('error', () => {});
  return model;
}

/** The plugin's LLM with OpenRouter's `models[]` in every request (extraKwargs is how the plugin takes body fields). */
class WithModels extends openaiPlugin.LLM {
  constructor(
    options: ConstructorParameters<typeof openaiPlugin.LLM>[0],
    private readonly models: string[],
  ) {
    super(options);
  }

  override chat(params: Parameters<openaiPlugin.LLM['chat']>[0]): ReturnType<openaiPlugin.LLM['chat']> {
    return super.chat({ ...params, extraKwargs: { ...params.extraKwargs, models: this.models } });
  }
}

export const CONTENDERS: readonly Contender[] = [
  { id: 'holdline', label: 'holdline' },
  { id: 'fallback-default', label: 'FallbackAdapter (defaults)', contender: { llm: fallbackAdapterOver } },
  { id: 'fallback-tuned', label: 'FallbackAdapter (maxRetry 0)', contender: { llm: fallbackAdapterOver, llmConnOptions: { maxRetry: 0 } } },
  { id: 'models-fallback', label: 'OpenRouter models[] (+ FallbackAdapter to local)', contender: { llm: modelsFallbackOver } },
  { id: 'holdline-models', label: 'holdline, OPENROUTER_SERVER_FALLBACK', env: { OPENROUTER_SERVER_FALLBACK: 'true' } },
];
