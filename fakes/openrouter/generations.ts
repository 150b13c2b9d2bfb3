/**
 * The generations the fake produced, for `GET /api/v1/generation?id=` and the account's usage. A fake left running
 * must not grow forever, so the newest `GENERATIONS_MAX` are kept (older ids answer 404, as OpenRouter's do once
 * expired); usage keeps counting every one, in a running total rather than a sum over the map.
 */
import type { GenerationRecord } from './exchange.js';

/** Generations kept since reset: a rehearsal makes hundreds, the 1000-turn soak about a thousand. */
export const GENERATIONS_MAX = 50_000;

export class GenerationLog extends Map<string, GenerationRecord> {
  /** USD of every generation since reset, forgotten ones included. */
  usageUsd = 0;

  constructor(private readonly max = GENERATIONS_MAX) {
    super();
  }

  override set(id: string, record: GenerationRecord): this {
    const previous = this.get(id);
    this.usageUsd += record.cost - (previous?.cost ?? 0);
    super.set(id, record);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.size > this.max) this.delete(this.keys().next().value as string);
    return this;
  }

  override clear(): void {
    super.clear();
    this.usageUsd = 0;
  }
}
