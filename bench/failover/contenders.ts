/**
 * The three contenders of the failover benchmark, all in the same rehearsal session over the same backends:
 * holdline's chain; LiveKit's `llm.FallbackAdapter` configured as LiveKit documents it (every default, the
 * session's default `llmConnOptions`); and the same adapter tuned the way its docs suggest for fallback
 * (`llmConnOptions.maxRetry: 0`, so the session does not retry the whole chain on top of the adapter).
 */
import { llm } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import OpenAI from 'openai';
import type { Backend } from '../../src/chain/backends.js';
import type { Config } from '../../src/config.js';
import type { RehearsalOptions } from '../../src/rehearsal/server.js';

export interface Contender {
  /** Short id for JSON and the command line. */
  id: 'holdline' | 'fallback-default' | 'fallback-tuned';
  /** How the table names it. */
  label: string;
  /** Undefined: holdline's own chain. */
  contender?: RehearsalOptions['contender'];
}

/**
 * One `openai.LLM` per backend (the plugin's official client with `maxRetries: 0`: the adapter does the
 * retrying), wrapped in a FallbackAdapter with LiveKit's defaults: attemptTimeout 5 s, maxRetryPerLLM 0,
 * retryInterval 0.5 s, retryOnChunkSent false.
 */
export function fallbackAdapterOver({ config, backends }: { config: Config; backends: Backend[] }): llm.LLM {
  const llms = backends.map((backend) => {
    const client = new OpenAI({
      baseURL: backend.baseURL,
      // The local llama.cpp server takes any key; the SDK insists on one.
      apiKey: backend.kind === 'openrouter' ? (config.openrouter.apiKey ?? '') : 'local',
      maxRetries: 0,
    });
    const model = new openaiPlugin.LLM({ model: backend.model, client });
    // The plugin reports stream errors as 'error' events; an EventEmitter without a listener would throw them.
    model.on('error', () => {});
    return model;
  });
  const adapter = new llm.FallbackAdapter({ llms });
  adapter.on('error', () => {});
  return adapter;
}

export const CONTENDERS: readonly Contender[] = [
  { id: 'holdline', label: 'holdline' },
  { id: 'fallback-default', label: 'FallbackAdapter (defaults)', contender: { llm: fallbackAdapterOver } },
  { id: 'fallback-tuned', label: 'FallbackAdapter (maxRetry 0)', contender: { llm: fallbackAdapterOver, llmConnOptions: { maxRetry: 0 } } },
];
