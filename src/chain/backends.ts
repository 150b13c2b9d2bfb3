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
 * The most entries OpenRouter accepts in `models` ("'models' array must have 3 items or fewer.", quoted in public
 * threads: coder/xum#2963, and a boundary check against the live API in ever-co/ever-gauzy#9915). The request's
 * `models` is the asked model and its fallbacks (attempt.ts).
 */
export const MODELS_PER_REQUEST = 3;

/**
 * OpenRouter backends need a key; without one they are left out (the agent runs on the local model alone,
 * and says so at start). The local server is always last, with no toggle: it is the last resort.
 * With `OPENROUTER_SERVER_FALLBACK` each OpenRouter backend's request also carries the models after it in
 * `models[]`: OpenRouter falls back from a pre-stream error (429, 5xx) server-side, without a round trip of
 * ours. The backends stay one per model, so what OpenRouter does not fall back from (a stall, a slow first
 * token: the 200 has started) is still caught by our deadlines and hedged on the next model, and each
 * model keeps its own cooldown; the local server stays last. OpenRouter refuses a `models` of more than
 * `MODELS_PER_REQUEST` entries with a 400 for the whole request, so a request carries the next two models at most;
 * the ones after them are reached by the chain itself, as without the option.
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
  const openrouter: Backend[] = !apiKey ? [] : models.map((model, i) => one(model, serverFallback ? models.slice(i + 1, i + MODELS_PER_REQUEST) : undefined));
  const local: Backend = {
    id: 'local',
    kind: 'local',
    model: config.local.model,
    baseURL: config.local.baseURL,
    deadlines: config.local.deadlines,
  };
  return [...openrouter, local];
}

/** A model of OpenRouter's `:free` variants: under the key's free limits (20 a minute, 50 or 1000 a day, across them all). */
export function isFree(backend: Backend): boolean {
  return backend.kind === 'openrouter' && backend.model.endsWith(':free');
}

/** The chain's OpenRouter backend for `model`, if the chain has one. */
export function openRouterBackend(backends: readonly Backend[], model: string | undefined): Backend | undefined {
  return model === undefined ? undefined : backends.find((b) => b.kind === 'openrouter' && b.model === model);
}

/**
 * The backend a request to `asked` is booked to when the response names `servedBy` as the model that answered.
 * With `models[]` OpenRouter may have answered from a later model of the request: the answer (its cooldown,
 * ttft, attempt event, status, and what the caller heard) is that model's. Anything else stays `asked`'s.
 */
export function servedBackend(backends: readonly Backend[], asked: Backend, servedBy: string | undefined): Backend {
  if (servedBy === undefined || servedBy === asked.model || !asked.fallbackModels?.includes(servedBy)) return asked;
  return openRouterBackend(backends, servedBy) ?? asked;
}

/**
 * Every chain backend a request to `asked` carried, in the order OpenRouter tries them (`asked` first). `models`: the
 * ones it carried after `asked`, when not all of its own (the chain leaves out an id OpenRouter said it does not know).
 */
export function carriedBackends(backends: readonly Backend[], asked: Backend, models: readonly string[] = asked.fallbackModels ?? []): Backend[] {
  const later = models.flatMap((model) => backends.filter((b) => b.kind === 'openrouter' && b.model === model));
  return [asked, ...later];
}

/** The backends OpenRouter fell back from before `served` answered (empty when `asked` answered itself). */
export function fellBackFrom(backends: readonly Backend[], asked: Backend, served: Backend, models?: readonly string[]): Backend[] {
  const carried = carriedBackends(backends, asked, models);
  const at = carried.indexOf(served);
  return at <= 0 ? [] : carried.slice(0, at);
}
