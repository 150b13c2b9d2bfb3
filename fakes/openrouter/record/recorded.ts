/**
 * What the recorder keeps of one chat completion it passed through: when it came, what it asked (the model, what
 * it answers, streamed or not, the caller's words only with --keep-content) and how the upstream answered, with
 * every streamed piece's time. Never a header of the request: the key cannot end up in a recording.
 */

/** One streamed piece, `atMs` after the request arrived. */
export type Piece =
  | { atMs: number; kind: 'text'; text: string }
  | { atMs: number; kind: 'call'; index: number; name: string }
  | { atMs: number; kind: 'arguments'; index: number; text: string };

export interface WireError {
  code: number | string;
  message: string;
  metadata?: Record<string, unknown>;
}

export interface RecordedExchange {
  /** Ms since the recorder started. */
  atMs: number;
  /** The requested model (`model`, or the first of `models[]`). */
  model: string;
  answering: 'user' | 'toolResult' | 'other';
  stream: boolean;
  /** A digest of the caller's last message, when it answers the caller (tells turns apart without their words). */
  userKey?: string;
  /** The caller's last message itself, only with --keep-content. */
  userText?: string;
  /** The upstream's status; undefined when none came. */
  status?: number;
  /** Response headers a client acts on (retry-after, x-ratelimit-*), lower-case names. */
  headers: Record<string, string>;
  /** The provider that answered (the body's `provider`). */
  provider?: string;
  /** An error before the stream (status >= 400), or in a non-stream 200 body. */
  error?: WireError;
  /** Streamed pieces, or a non-stream answer's content as pieces at its end. */
  pieces: Piece[];
  /** The error event that ended a stream. */
  streamError?: WireError;
  /**
   * A finish that said the provider failed, with no error event (`finish_reason: "error"`, or a `native_finish_reason`
   * of `network_error`): the `failedFinish` fault's `native`.
   */
  failedFinish?: 'error' | 'network_error';
  /**
   * How it ended: `done` ([DONE] or a whole JSON body), `error-event`, `cut` (the body broke off), `reset` (the
   * connection failed before any status), `abandoned` (the client left before any status: a hang).
   */
  ended: 'done' | 'error-event' | 'cut' | 'reset' | 'abandoned';
  /** Ms from arrival to the end. */
  totalMs: number;
  /** True when the client left before the answer ended (its own deadline, or a new turn). */
  clientLeft?: boolean;
}
