/**
 * The one interface every fault kind implements (Toxiproxy's `Toxic`, mockttp's step): a sentence that explains
 * it, and a handler that answers one request. A handler either returns an OpenRouter error to send before any
 * byte (the router may fall back to the next model of `models[]` instead) or answers itself and returns how the
 * exchange ended.
 */
import type { Outcome } from '../../../contract/journal.js';
import type { Fault, FaultKind } from '../../../contract/scenario/schema.js';
import type { Exchange } from '../exchange.js';
import type { OpenRouterError } from '../wire/errors.js';

export type FaultOf<K extends FaultKind> = Extract<Fault, { kind: K }>;

export type Handled = { error: OpenRouterError } | { outcome: Outcome };

export interface FaultModule<K extends FaultKind> {
  /** What the client will observe, as the end of a sentence: "answer 429 rate-limit-per-minute". No period. */
  describe(fault: FaultOf<K>): string;
  /** Answers one request. Rejects only when the exchange was aborted mid-way (the router records that). */
  handle(fault: FaultOf<K>, ex: Exchange): Promise<Handled>;
}
