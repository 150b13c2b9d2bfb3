/**
 * Provider routing as OpenRouter applies a request's `provider` preferences (its provider-routing docs): `only`
 * keeps the listed providers, `ignore` drops some, `order` tries the listed ones first, and `allow_fallbacks:
 * false` stops at `order` (or at `only`). Names compare by slug ("Together" = "together"). Nothing left: the 404
 * OpenRouter answers, with the providers the model has and those the request asked for (as quoted in public
 * issue threads). Pure.
 */
import type { ChatRequest } from './request.js';
import type { OpenRouterError } from './errors.js';

export type Routed = { provider: string } | { error: OpenRouterError };

/** "Google AI Studio" -> "google-ai-studio", as OpenRouter's metadata names providers. */
export function providerSlug(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, '-');
}

export function route(available: readonly string[], prefs: ChatRequest['provider']): Routed {
  const has = (list: readonly string[] | null | undefined, name: string) => (list ?? []).some((p) => providerSlug(p) === providerSlug(name));
  const candidates = available.filter((p) => (prefs?.only ? has(prefs.only, p) : true) && !has(prefs?.ignore, p));
  const ordered = (prefs?.order ?? []).flatMap((o) => candidates.filter((p) => providerSlug(p) === providerSlug(o)));
  const rest = candidates.filter((p) => !ordered.includes(p));
  const allowed = prefs?.allow_fallbacks === false && prefs.order ? ordered : [...ordered, ...rest];
  const first = allowed[0];
  if (first !== undefined) return { provider: first };
  return {
    error: {
      status: 404,
      message: 'No allowed providers are available for the selected model.',
      metadata: {
        available_providers: available.map(providerSlug),
        requested_providers: [...(prefs?.only ?? prefs?.order ?? [])].map(providerSlug),
      },
      fallsBack: true,
    },
  };
}
