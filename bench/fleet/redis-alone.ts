/**
 * What Redis adds to one decision when the fleet is not also competing for the cores: one process, one store, the
 * decision an attempt on a `:free` model makes (the shared read of the chain's models, then a `:free` slot), timed
 * on the wall clock one after another. bench:fleet runs it after its fleets are stopped, beside the fleet's own
 * histogram, so the two say apart what Redis costs and what a loaded machine adds to it.
 */
import { ScaledClock } from '../../contract/clock.js';
import { SharedCooldowns } from '../../src/chain/shared-cooldowns.js';

export interface AloneResult {
  decisions: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export async function redisAlone(url: string, apiKey: string, models: string[], decisions = 2_000): Promise<AloneResult> {
  const clock = new ScaledClock(1);
  // A budget no run reaches: every slot is granted, so each decision makes both of its calls.
  // A patient deadline: this measures what Redis takes, so no call may be cut short (and the next ones skipped).
  const store = new SharedCooldowns({ redis: url, apiKey, clock, freePerMinute: 1_000_000, deadlineMs: 1_000 });
  try {
    await new Promise<void>((resolve) => (store.client.status === 'ready' ? resolve() : store.client.once('ready', () => resolve())));
    const times: number[] = [];
    for (let i = 0; i < decisions; i++) {
      const started = performance.now();
      await store.read(models, new Map());
      await store.takeFreeSlot();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => Number((times[Math.max(0, Math.ceil(q * times.length) - 1)] as number).toFixed(3));
    return { decisions, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
  } finally {
    await store.client.flushall().catch(() => undefined);
    await store.close();
  }
}
