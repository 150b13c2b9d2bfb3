/**
 * The key's `free-models-per-min` 429 across a fleet, on a REAL Redis (redis-server, started per file): one call meets
 * it on one `:free` model, and every call skips every `:free` model of the key until the same end, while a paid model
 * is still asked. Nothing new on the Redis side: the chain books each `:free` model's cooldown as it books any
 * (cooldown.ts `keyWideFree`, chain-llm.ts `share`).
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import type { AttemptResult } from './attempt.js';
import { loadConfig } from '../config.js';
import { playTurns, redisForFile, ready, startJob } from '../testing/shared-fleet.js';
import type { Backend } from './backends.js';
import { PROBE_HEAD_START_MS } from './shared-cooldowns.js';

const KEY = 'sk-or-v1-fleet-secret';
const config = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: 'a/one:free,b/two:free,c/paid', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
const fleetRedis = redisForFile();

const perMinute: AttemptResult = {
  cancelled: false,
  textSent: false,
  failure: { class: 'rate-limit', detail: '429: Rate limit exceeded: free-models-per-min. ', status: 429, retryAfterMs: 5_000, keyWide: true },
};

describe("the key's free-models-per-min 429 in a fleet (real Redis)", () => {
  it('one call meets it on one :free model: every call skips every :free model until its end, and asks the paid one', async () => {
    const clock = new VirtualClock(0, 1_700_000_000_000);
    const script = (b: Backend, now: number) => (b.model === 'a/one:free' && now < 5_000 ? perMinute : 'ok');
    const start = () => startJob({ clock, config, script, redisUrl: fleetRedis.server().url, apiKey: KEY, store: { freePerMinute: 0 } });
    const [a, b] = [start(), start()];
    fleetRedis.stores.push(a.store, b.store);
    await Promise.all([ready(a.store), ready(b.store)]);

    // The first call: a/one:free's 429 says the key is out, so b/two:free is skipped without a request.
    expect(await playTurns(clock, [a.chain], [a.store, b.store])).toEqual([['openrouter:c/paid: answer from c/paid']]);
    expect(a.attempts).toEqual(['openrouter:a/one:free', 'openrouter:c/paid']);
    expect(a.skips()).toEqual([expect.objectContaining({ model: 'b/two:free', cooldownUntil: 5_010 })]);

    // The other call learns both ends from Redis and asks neither :free model.
    expect(await playTurns(clock, [b.chain], [a.store, b.store])).toEqual([['openrouter:c/paid: answer from c/paid']]);
    expect(b.attempts).toEqual(['openrouter:c/paid']);
    expect(b.skips().map((s) => [s.model, s.cooldownUntil])).toEqual([
      // a/one:free's own 429: A has the head start on its probe (PROBE_HEAD_START_MS); b/two:free's names nobody.
      ['a/one:free', 5_010 + PROBE_HEAD_START_MS],
      ['b/two:free', 5_010],
    ]);
    const keys = (await a.store.client.keys('holdline:cooldown:*')).map((k) => k.split(':').slice(3).join(':')).sort();
    expect(keys).toEqual(['a/one:free', 'b/two:free']);
  });
});
