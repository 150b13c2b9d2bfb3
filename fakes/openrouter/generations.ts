/**
 * The generations the fake produced, for `GET /api/v1/generation?id=`. A fake left running must not grow forever,
 * so the newest `GENERATIONS_MAX` are kept (older ids answer 404, as OpenRouter's do once expired). Each key's usage
 * is counted apart, by its account (quota/accounts.ts).
 */
import type { GenerationRecord } from './exchange.js';

/** Generations kept since reset: a rehearsal makes hundreds, the 1000-turn soak about a thousand. */
export const GENERATIONS_MAX = 50_000;

export class GenerationLog extends Map<string, GenerationRecord> {
  constructor(private readonly max = GENERATIONS_MAX) {
    super();
  }

  override set(id: string, record: GenerationRecord): this {
    super.set(id, record);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.size > this.max) this.delete(this.keys().next().value as string);
    return this;
  }
}
