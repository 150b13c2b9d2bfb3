/** The chain's backends, in order: each `LLM_MODEL` entry on OpenRouter, then the local llama.cpp server. */
import type { Source } from '../../contract/events.js';
import type { Config, Deadlines } from '../config.js';

export interface Backend {
  /** Also the utterance source: `openrouter:<model>` or `local`. */
  id: Source;
  kind: 'openrouter' | 'local';
  model: string;
  baseURL: string;
  deadlines: Deadlines;
}

/**
 * OpenRouter backends need a key; without one they are left out (the agent runs on the local model alone,
 * and says so at start). The local server is always last, with no toggle: it is the last resort.
 */
export function backendsFrom(config: Config): Backend[] {
  const openrouter: Backend[] = config.openrouter.apiKey
    ? config.openrouter.models.map((model) => ({
        id: `openrouter:${model}` as const,
        kind: 'openrouter' as const,
        model,
        baseURL: config.openrouter.baseURL,
        deadlines: config.openrouter.deadlines,
      }))
    : [];
  const local: Backend = {
    id: 'local',
    kind: 'local',
    model: config.local.model,
    baseURL: config.local.baseURL,
    deadlines: config.local.deadlines,
  };
  return [...openrouter, local];
}
