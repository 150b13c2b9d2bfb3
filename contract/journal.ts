/**
 * The fake's journal (`GET /__fake/journal`): one entry per request it received, in arrival order.
 * The runner checks `expect.requests` against it and draws it on the timeline.
 */

/** A status code as a string ("200", "429") or the fault kind when no status line was sent or it was not the end. */
export type Outcome =
  | `${number}`
  | 'hang'
  | 'stall'
  | 'reset'
  | 'disconnect'
  | 'midStream'
  | 'malformed'
  | 'failedFinish'
  | 'empty'
  | 'aborted';

export interface JournalEntry {
  /** 1-based arrival order since the last reset. */
  seq: number;
  /** Scenario ms at arrival. */
  at: number;
  method: string;
  /**
   * Which API key made the request: a short hash of it (`key_3f9a0c1b2d4e`, the same for the same key on every run),
   * never the key; null when the request carried no well-formed key.
   */
  key: string | null;
  /** As the client sent it, clipped to 256 characters (longer ones end `...(+N characters)`). */
  path: string;
  /** The requested model (`model`, or the first of `models[]`), clipped like `path`; null for requests without one. */
  model: string | null;
  /** The model that finally served or failed it, after `models[]` fallback; null when none. */
  servedBy: string | null;
  stream: boolean;
  /** Index of the rule that decided the outcome, or null for the default reply / a validation error. */
  rule: number | null;
  /** The rule explained in one sentence, or why no rule applied. */
  ruleText: string;
  outcome: Outcome;
  /** Scenario ms from arrival to the first byte sent (status line); null when nothing was sent. */
  ttfbMs: number | null;
  /** Scenario ms from arrival until the response ended or the socket closed; null while still open. */
  durationMs: number | null;
}

export interface Journal {
  /** Epoch ms of scenario time 0, so other processes can align their clocks. */
  originEpochMs: number;
  speed: number;
  /** The newest entries, at most the fake's limit (50,000). */
  entries: JournalEntry[];
  /** How many older entries were forgotten to keep within the limit since the last reset (0 in a rehearsal). */
  dropped: number;
}
