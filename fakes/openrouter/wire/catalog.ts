/**
 * What the fake serves: which model ids, which provider answers each one, what they cost, and the
 * `GET /api/v1/models` entry for each, in OpenRouter's shape.
 */
import { isLiteralModel } from '../../../contract/glob.js';
import { matchesGlob } from '../../../contract/glob.js';
import type { CatalogEntry, Scenario } from '../../../contract/scenario/schema.js';
import { intDraw } from '../seeded.js';

/** Provider names OpenRouter routes to; each model gets one, fixed by its id (not by the seed). */
const PROVIDERS = ['DeepInfra', 'Together', 'Chutes', 'Fireworks', 'Novita', 'Groq', 'Lambda', 'Parasail'] as const;

export function providerFor(model: string): string {
  let provider = providers.get(model);
  if (provider === undefined) {
    if (providers.size >= PROVIDERS_REMEMBERED) providers.clear();
    provider = PROVIDERS[intDraw('provider', model) % PROVIDERS.length] as string;
    providers.set(model, provider);
  }
  return provider;
}

/**
 * Each model's provider, once drawn: a request looks it up several times (routing, the context window, the
 * generation), and each draw is a SHA-256 (`bench:fake`'s profile: the largest part of the fake's hashing).
 * Bounded: the models a chain names are few, but request bodies name any model they like.
 */
const providers = new Map<string, string>();
const PROVIDERS_REMEMBERED = 1000;

/** Served models, in a stable order: `fake.models`, then the agent's chain, then literal models named by rules. */
export function servedModels(scenario: Scenario): string[] {
  const fromRules = scenario.fake.rules.map((r) => r.when.model).filter(isLiteralModel);
  return [...new Set([...scenario.fake.models, ...scenario.agent.models, ...fromRules])];
}

/** USD per token, as OpenRouter's pricing strings. `:free` variants cost nothing. */
export function pricingFor(model: string): { prompt: string; completion: string } {
  return model.endsWith(':free') ? { prompt: '0', completion: '0' } : { prompt: '0.0000001', completion: '0.0000004' };
}

/** A model's context window unless `fake.catalog` says otherwise. */
export const CONTEXT_LENGTH = 131_072;
/** `created` of every model entry: a fixed instant, so `/models` is byte-stable (2025-01-01T00:00:00Z). */
const MODEL_CREATED_S = 1_735_689_600;

/** "meta-llama/llama-3.3-70b-instruct:free" -> "Meta Llama: Llama 3.3 70b Instruct (free)". */
export function displayName(model: string): string {
  const [org = model, rest = ''] = model.split('/', 2);
  const [slug = rest, variant] = rest.split(':', 2);
  const words = (s: string) => s.split(/[-_]/).filter(Boolean).map((w) => w[0]?.toUpperCase() + w.slice(1)).join(' ');
  return `${words(org)}: ${words(slug)}${variant ? ` (${variant})` : ''}`;
}

/** What one model can do: the first `fake.catalog` entry whose glob matches, else everything the fake plays. */
export interface ModelSpec {
  tools: boolean;
  contextLength: number;
  /** In OpenRouter's default order. */
  providers: string[];
  reasoning: boolean;
}

export function specFor(scenario: Scenario, model: string): ModelSpec {
  const entry: CatalogEntry | undefined = scenario.fake.catalog.find((e) => matchesGlob(e.model, model));
  return {
    tools: entry?.tools ?? true,
    contextLength: entry?.contextLength ?? CONTEXT_LENGTH,
    providers: entry?.providers ?? [providerFor(model)],
    reasoning: entry?.reasoning ?? false,
  };
}

/**
 * The request parameters the fake honours, and only those: `/models` must never advertise a parameter the fake
 * ignores (a client choosing models by `supported_parameters` would be misled). `tools` brings scripted tool
 * calls (and the 404 on a model without them); `tool_choice: "none"` turns them off; `max_tokens` and
 * `max_completion_tokens` cut the reply (`finish_reason: "length"`); `response_format` (json_object, json_schema:
 * `structured_outputs`) makes it JSON; `reasoning` / `include_reasoning` bring reasoning on a model that reasons.
 */
export function supportedParameters(spec: ModelSpec): string[] {
  return [
    'max_tokens',
    'max_completion_tokens',
    'response_format',
    'structured_outputs',
    ...(spec.tools ? ['tools', 'tool_choice'] : []),
    ...(spec.reasoning ? ['reasoning', 'include_reasoning'] : []),
  ];
}

export function modelEntry(model: string, spec: ModelSpec) {
  const pricing = pricingFor(model);
  return {
    id: model,
    canonical_slug: model.split(':')[0],
    hugging_face_id: '',
    name: displayName(model),
    created: MODEL_CREATED_S,
    description: `${displayName(model)}, served by the holdline fake.`,
    context_length: spec.contextLength,
    architecture: {
      modality: 'text->text',
      input_modalities: ['text'],
      output_modalities: ['text'],
      tokenizer: 'Other',
      instruct_type: null,
    },
    pricing: { ...pricing, request: '0', image: '0', web_search: '0', internal_reasoning: '0' },
    top_provider: { context_length: spec.contextLength, max_completion_tokens: 8192, is_moderated: false },
    per_request_limits: null,
    supported_parameters: supportedParameters(spec),
  };
}
