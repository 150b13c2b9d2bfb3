/**
 * Hedging a late first token: when the running backend has not spoken by its hedge delay, the next backend is
 * asked too and the first to speak is heard (chain-llm.ts runs the race). Two pieces of state that outlive the
 * turn, both pure (no clock, no I/O):
 *
 * - `TtftBook`: each backend's recent times to first token, so the delay adapts: a hedge starts once the
 *   running backend is later than its own p95 (clamped to [HEDGE_MIN_MS, HEDGE_MAX_MS]; HEDGE_MAX_MS before
 *   any sample). A fast model is hedged early, a slow-but-steady one late, neither on every turn.
 * - `HedgeBudget`: a hedge is a second request against the same key's quota, so hedges are bounded to a
 *   percentage of first-hand requests, as gRPC's retry throttling bounds retries: a token bucket that earns
 *   `percent / 100` per first-hand request and spends 1 per hedge, with a small burst so the first stall of
 *   a call can be hedged at once.
 */
import type { PolicyConfig } from '../config.js';

/** Samples kept per backend: enough for a p95 that follows a model's mood within a call. */
export const TTFT_SAMPLES = 20;
/** Hedges the budget allows in a row before it must earn more. */
export const HEDGE_BURST = 2;

export class TtftBook {
  private readonly samples = new Map<string, number[]>();

  record(backendId: string, ttftMs: number): void {
    const list = this.samples.get(backendId) ?? [];
    list.push(ttftMs);
    if (list.length > TTFT_SAMPLES) list.shift();
    this.samples.set(backendId, list);
  }

  /** The 95th percentile (nearest rank) of the backend's recent ttfts, or undefined with none. */
  p95(backendId: string): number | undefined {
    const list = this.samples.get(backendId);
    if (!list || list.length === 0) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.ceil(0.95 * sorted.length) - 1];
  }

  clear(): void {
    this.samples.clear();
  }
}

/** How long to wait for `backendId`'s first token before hedging. */
export function hedgeDelayMs(book: TtftBook, backendId: string, policy: PolicyConfig): number {
  const p95 = book.p95(backendId);
  if (p95 === undefined) return policy.hedgeMaxMs;
  return Math.min(policy.hedgeMaxMs, Math.max(policy.hedgeMinMs, Math.round(p95)));
}

export class HedgeBudget {
  private tokens = HEDGE_BURST;

  constructor(private readonly percent: number) {}

  /** A first-hand request earns a fraction of a hedge. */
  earn(): void {
    this.tokens = Math.min(HEDGE_BURST, this.tokens + this.percent / 100);
  }

  /** Takes one hedge if the budget allows it. */
  trySpend(): boolean {
    if (this.percent === 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back a hedge taken but not sent (the fleet's budget or a probe lease forbade it). */
  refund(): void {
    this.tokens = Math.min(HEDGE_BURST, this.tokens + 1);
  }

  reset(): void {
    this.tokens = HEDGE_BURST;
  }
}
