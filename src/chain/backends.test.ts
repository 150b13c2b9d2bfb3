import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { backendsFrom, carriedBackends, fellBackFrom, MODELS_PER_REQUEST, servedBackend } from './backends.js';

const withFallback = backendsFrom(loadConfig({ OPENROUTER_API_KEY: 'k', LLM_MODEL: 'a/1,b/2,c/3', OPENROUTER_SERVER_FALLBACK: 'true' }));
const [a, b, c, local] = withFallback as [NonNullable<(typeof withFallback)[0]>, (typeof withFallback)[0], (typeof withFallback)[0], (typeof withFallback)[0]];

describe("booking a models[] request to the model OpenRouter says answered", () => {
  it('an answer from a later model of the request is that model\'s', () => {
    expect(servedBackend(withFallback, a, 'c/3')).toBe(c);
    expect(servedBackend(withFallback, a, 'a/1')).toBe(a);
    expect(fellBackFrom(withFallback, a, c)).toEqual([a, b]);
    expect(fellBackFrom(withFallback, a, a)).toEqual([]);
  });

  it('a model the request did not carry (or none named) stays with the model asked', () => {
    // b's request carries only c: an answer naming a/1 (a provider's own alias, say) is not booked to a.
    expect(servedBackend(withFallback, b, 'a/1')).toBe(b);
    expect(servedBackend(withFallback, a, undefined)).toBe(a);
    expect(servedBackend(withFallback, local, 'a/1')).toBe(local);
  });

  it('carried: the model asked, then its models[] in order; without the option only itself', () => {
    expect(carriedBackends(withFallback, a)).toEqual([a, b, c]);
    expect(carriedBackends(withFallback, c)).toEqual([c]);
    const plain = backendsFrom(loadConfig({ OPENROUTER_API_KEY: 'k', LLM_MODEL: 'a/1,b/2' }));
    expect(carriedBackends(plain, plain[0]!)).toEqual([plain[0]]);
  });
});

describe('models[] within what OpenRouter accepts', () => {
  it('a request carries the next two models at most (OpenRouter refuses a models of 4 or more with a 400)', () => {
    const five = backendsFrom(loadConfig({ OPENROUTER_API_KEY: 'k', LLM_MODEL: 'a/1,b/2,c/3,d/4,e/5', OPENROUTER_SERVER_FALLBACK: 'true' }));
    expect(five.map((b) => b.fallbackModels)).toEqual([['b/2', 'c/3'], ['c/3', 'd/4'], ['d/4', 'e/5'], ['e/5'], undefined, undefined]);
    for (const backend of five) expect(carriedBackends(five, backend).length).toBeLessThanOrEqual(MODELS_PER_REQUEST);
  });
});
