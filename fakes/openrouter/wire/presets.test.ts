import { describe, expect, it } from 'vitest';
import { nextBoundary, presetError, type PresetContext } from './presets.js';

const DAY = 86_400_000;

/** A request at 23:59:30 UTC on the scenario calendar, with scenario time 0 at 23:59:00, at speed 10. */
function context(): PresetContext {
  const origin = Date.UTC(2026, 0, 1, 23, 59, 0);
  const speed = 10;
  return {
    model: 'x/y:free',
    provider: 'Chutes',
    scenarioEpochMs: origin + 30_000,
    toWallEpochMs: (scenarioEpochMs) => origin + (scenarioEpochMs - origin) / speed,
  };
}

describe('preset errors', () => {
  it('nextBoundary is strictly after the instant', () => {
    expect(nextBoundary(DAY * 3, DAY)).toBe(DAY * 4);
    expect(nextBoundary(DAY * 3 + 1, DAY)).toBe(DAY * 4);
    expect(nextBoundary(59_999, 60_000)).toBe(60_000);
  });

  it('the daily reset is the next UTC midnight of scenario time, mapped to the wall clock at the scenario speed', () => {
    const err = presetError('rate-limit-per-day', context());
    // Midnight is 60 s of scenario time after the origin: 6 s of wall time at speed 10.
    expect(err.headers?.['X-RateLimit-Reset']).toBe(String(Date.UTC(2026, 0, 1, 23, 59, 6)));
    expect(err).toMatchObject({ status: 429, fallsBack: true, metadata: { headers: err.headers } });
  });

  it('the per-minute reset is the next minute of scenario time', () => {
    const err = presetError('rate-limit-per-minute', context());
    expect(err.headers?.['X-RateLimit-Reset']).toBe(String(Date.UTC(2026, 0, 1, 23, 59, 6)));
  });

  it('names the model and provider where OpenRouter does', () => {
    expect(presetError('no-endpoints', context()).message).toBe('No endpoints found for x/y:free.');
    expect(presetError('upstream-rate-limit', context()).metadata).toEqual({
      raw: 'x/y:free is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations',
      provider_name: 'Chutes',
    });
  });

  it('key and credit errors do not fall back; the invalid key has no user', () => {
    expect(presetError('invalid-key', context())).toMatchObject({ status: 401, fallsBack: false, authenticated: false });
    expect(presetError('insufficient-credits', context())).toMatchObject({ status: 402, fallsBack: false });
  });
});
