/**
 * What Redis adds to one decision when the fleet is not also competing for the cores: one process, one store, the
 * decision an attempt on a `:free` model makes (what the fleet changed, from the store's mirror, then its booking: a
 * `:free` slot, one round trip), timed on the wall clock one after another. bench:fleet runs it after its fleets are stopped, beside the fleet's own
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
    store.watch({ models, local: () => new Map() });
    // Following Redis (subscribed, first snapshot read): decisions read the mirror, as a running agent's do.
    await new Promise<void>((resolve) => (store.mirror.live ? resolve() : store.mirror.once('live', () => resolve())));
    const free = models.find((m) => m.endsWith(':free')) ?? (models[0] as string);
    const times: number[] = [];
    for (let i = 0; i < decisions; i++) {
      const started = performance.now();
      await store.changes();
      await store.book(free, { leaseEnd: clock.now() + 10_000, free: true });
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
