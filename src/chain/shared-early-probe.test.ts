/**
 * Probing instead of holding, in a fleet (REAL Redis): when a pass finds every backend cooling, some on a guessed end,
 * the chain probes the first guessed model rather than make the caller wait the guess out (policy.ts
 * `probeInsteadOfHolding`). With a shared store that probe is the fleet's: one call takes the probe lease before the
 * guess ends, and the others skip the model until the lease's end.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import { loadConfig } from '../config.js';
import { playTurns, redisForFile, startFleet } from '../testing/shared-fleet.js';
import type { AttemptResult } from './attempt.js';
import type { Backend } from './backends.js';

const KEY = 'sk-or-v1-early-probe-secret';
const fleetRedis = redisForFile();

/** A provider's 502: no reset time, so the cooldown is a guess. */
const down: AttemptResult = { cancelled: false, textSent: false, failure: { class: 'unavailable', detail: '502 provider down', status: 502 } };
/** Nothing listens on the local server's port. */
const refused: AttemptResult = { cancelled: false, textSent: false, failure: { class: 'connection', detail: 'connect ECONNREFUSED', refused: true } };

async function calls(models: string, n: number, downUntil: number) {
  const config = loadConfig({ OPENROUTER_API_KEY: KEY, LLM_MODEL: models, LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
  const clock = new VirtualClock(0, 1_700_000_000_000);
  const script = (b: Backend, now: number) => (b.kind === 'local' ? refused : now < downUntil ? down : 'ok');
  return { clock, jobs: await startFleet(fleetRedis, n, { clock, config, script, apiKey: KEY, store: { deadlineMs: 1_000 } }) };
}

describe('probing instead of holding with a shared store (real Redis)', { timeout: 8000 }, () => {
  for (const models of ['a/one:free,b/two:free', 'a/one,b/two']) {
    const [one, two] = models.split(',') as [string, string];
    it(`${models}: calls whose turns find every model cooling on the fleet's guess probe the first one once, fleet-wide`, async () => {
      const { clock, jobs } = await calls(models, 3, 0);
      const [a, b, c] = jobs as [(typeof jobs)[0], (typeof jobs)[0], (typeof jobs)[0]];
      const stores = jobs.map((j) => j.store);
      // A met the outage: both models cooling on a guess (a 5xx's, grown) until 30 s, A named to probe them at the end.
      await a.store.fail(one, { until: 30_000, cls: 'unavailable', streak: 3, guessed: true, since: 0 });
      await a.store.fail(two, { until: 30_000, cls: 'unavailable', streak: 3, guessed: true, since: 0 });
      await Promise.all([b, c].map((j) => j.chain.syncShared()));

      // B and C take turns at 1 s: each pass finds both models cooling and the local server refusing.
      await clock.advance(1_000);
      const heard = await playTurns(clock, [b.chain, c.chain], stores);
      // One early probe per model, fleet-wide: the first call to book takes the first model's lease; the other, refused as
      // probing, probes the next model on a guess (one request per model per pass, not one per call). Both answer.
      expect(heard.flat().filter((h) => h.startsWith('openrouter:')).sort()).toEqual([`openrouter:${one}: answer from ${one}`, `openrouter:${two}: answer from ${two}`]);
      const asked = [b, c].flatMap((j) => j.attempts).filter((id) => id !== 'local');
      expect(asked.sort()).toEqual([`openrouter:${one}`, `openrouter:${two}`]);
      // A refused early probe is no loop: a handful of bookings and skips, not one per turn of the event loop.
      for (const job of [b, c]) {
        expect(job.bookings()).toBeLessThan(4);
        expect(job.skips().length).toBeLessThan(6);
      }
    });
  }
});
