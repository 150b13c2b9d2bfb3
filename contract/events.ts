/**
 * What the rehearsal agent reports on `GET /events` (server-sent events, one JSON object per `data:` line).
 * Times are scenario ms on the agent's clock; `epochMs` beside them lets a reader align with the fake's
 * journal when the two clocks were not reset together.
 */
import type { Source } from './scenario/schema.js';

export type { Source };

/** Failure classes of one attempt, as the chain classifies them (status AND body). */
export const FAILURE_CLASSES = [
  'rate-limit',
  'unavailable',
  'timeout',
  'connection',
  'stall',
  'malformed',
  'account',
  'bad-request',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export type AttemptOutcome = 'ok' | FailureClass | 'cancelled';

interface Base {
  /** Scenario ms on the agent's clock. */
  at: number;
  /** Wall clock, epoch ms. */
  epochMs: number;
}

/** A user turn ended (its text is final) and the agent starts on a reply. */
export interface TurnEvent extends Base {
  type: 'turn';
  turnId: string;
  text: string;
}

/** One request to one backend within a pass. */
export interface AttemptEvent extends Base {
  type: 'attempt';
  turnId: string;
  /** 1-based pass number within the episode. */
  pass: number;
  backend: 'openrouter' | 'local';
  model: string;
  outcome: AttemptOutcome;
  /** True for a hedge: a second request started because the first had no token by its hedge delay. */
  hedge?: boolean;
  /** HTTP status when one was received (200 for mid-stream errors). */
  status?: number;
  /** OpenRouter's error code or message type, when the body carried one. */
  code?: string;
  /** What went wrong, in plain words, for logs and the timeline. Never spoken. */
  detail?: string;
  /** Scenario ms from request to outcome. */
  latencyMs: number;
  /** Scenario ms from request to the first content token, when one came. */
  ttftMs?: number;
  /** Scenario ms until which this backend is skipped, when the failure put it in cooldown. */
  cooldownUntil?: number;
  /** What the request cost, from the response's `usage` (OpenRouter's: tokens, and `cost` in USD), when it sent one. */
  usage?: TokenUsage;
}

/** OpenRouter's `usage` of one generation: prompt and completion tokens, and its cost in USD (credits) when stated. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd?: number;
}

/** A backend skipped without a request because it is cooling down. */
export interface SkipEvent extends Base {
  type: 'skip';
  turnId: string;
  pass: number;
  backend: 'openrouter' | 'local';
  model: string;
  cooldownUntil: number;
}

/** A step of the failure policy. */
export interface PolicyEvent extends Base {
  type: 'policy';
  turnId: string;
  /** hedge: the running request is late, the next backend is asked too (the first to speak is heard). */
  step: 'hold' | 'wait' | 'apology' | 'cancel' | 'hedge';
  /** For `wait`: scenario ms until the next pass. */
  until?: number;
  /** Why, in a few plain words (for logs and the runner's timeline, never spoken). */
  reason: string;
}

/** Something the caller heard: true playback start and end from the audio output. */
export interface UtteranceEvent extends Base {
  type: 'utterance';
  turnId: string | null;
  text: string;
  /** `unknown` only for speech that did not come through the chain (e.g. a plain `session.say`). */
  source: Source | 'unknown';
  start: number;
  end: number;
  interrupted: boolean;
}

/**
 * How a turn ended. Every turn ends in exactly one of these. `silent` (nothing was said) never comes from
 * holdline's chain; a rehearsed agent on another LLM (LiveKit's FallbackAdapter) can end a turn that way.
 */
export interface TurnEndEvent extends Base {
  type: 'turn_end';
  turnId: string;
  outcome: 'answered' | 'apology' | 'cancelled' | 'silent';
  source: Source | null;
}

/** A tool the model called was run (the rehearsal's demo tool): once per call the caller's request led to. */
export interface ToolEvent extends Base {
  type: 'tool';
  /** The call's id as the model sent it. */
  callId: string;
  name: string;
  /** The arguments as the model sent them (JSON text). */
  arguments: string;
  /** What the tool answered, as handed back to the model. */
  result: string;
}

/** The agent session's state (listening, thinking, speaking...). */
export interface StateEvent extends Base {
  type: 'state';
  from: string;
  to: string;
}

/** The session closed (it never should because of LLM errors). */
export interface CloseEvent extends Base {
  type: 'close';
  reason: string;
}

export type AgentEvent =
  | TurnEvent
  | AttemptEvent
  | SkipEvent
  | PolicyEvent
  | UtteranceEvent
  | TurnEndEvent
  | ToolEvent
  | StateEvent
  | CloseEvent;
