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
  /** OpenRouter's server-side fallback: the models tried after `model` within the same request (`models[]`). */
  fallbackModels?: string[];
}

/**
 * OpenRouter backends need a key; without one they are left out (the agent runs on the local model alone,
 * and says so at start). The local server is always last, with no toggle: it is the last resort.
 * With `OPENROUTER_SERVER_FALLBACK` the OpenRouter models are one backend whose request carries the rest of
 * the chain in `models[]`: OpenRouter falls back between them server-side, without a round trip of ours; our
 * deadlines, hold, hedge and the local server stay around that one request.
 */
export function backendsFrom(config: Config): Backend[] {
  const { apiKey, models, baseURL, deadlines, serverFallback } = config.openrouter;
  const one = (model: string, fallbackModels?: string[]): Backend => ({
    id: `openrouter:${model}`,
    kind: 'openrouter',
    model,
    baseURL,
    deadlines,
    ...(fallbackModels && fallbackModels.length > 0 && { fallbackModels }),
  });
  const [first, ...rest] = models;
  const openrouter: Backend[] = !apiKey ? [] : serverFallback && first ? [one(first, rest)] : models.map((model) => one(model));
  const local: Backend = {
    id: 'local',
    kind: 'local',
    model: config.local.model,
    baseURL: config.local.baseURL,
    deadlines: config.local.deadlines,
  };
  return [...openrouter, local];
}
