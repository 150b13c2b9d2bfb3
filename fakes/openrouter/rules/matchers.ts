/**
 * Which requests a rule is about (mockttp's matchers): the model, the arrival window, streaming or not, and
 * whether it answers the caller or a tool's result.
 * Each matcher answers `matches(request)` and explains itself as a phrase for the rule's sentence.
 */
import { formatDuration } from '../../../contract/duration.js';
import { matchesGlob } from '../../../contract/glob.js';
import type { After, When } from '../../../contract/scenario/schema.js';

/** What matchers and how-often checks look at. */
export interface RuleRequest {
  /** The model being tried. */
  model: string;
  /** Scenario ms of arrival. */
  atMs: number;
  stream: boolean;
  /** 1-based number of this request among requests for `model` since reset. */
  nth: number;
  seed: number;
  /** What the request answers: its last message is the caller's, a tool's result, or something else. */
  answering: After | 'other';
}

export interface Matcher {
  matches(request: RuleRequest): boolean;
  /** A phrase: `the model matches "qwen/*"`. */
  describe(): string;
}

export function modelMatcher(glob: string): Matcher {
  return {
    matches: (r) => matchesGlob(glob, r.model),
    describe: () => (glob === '*' ? 'any model' : `models matching "${glob}"`),
  };
}

/** "0s" rather than "0ms" for the start of a scenario, as people write it. */
const instant = (ms: number) => (ms === 0 ? '0s' : formatDuration(ms));

/** Arrival in [fromMs, untilMs): from inclusive, until exclusive. */
export function windowMatcher(fromMs: number | undefined, untilMs: number | undefined): Matcher {
  return {
    matches: (r) => (fromMs === undefined || r.atMs >= fromMs) && (untilMs === undefined || r.atMs < untilMs),
    describe: () => {
      if (fromMs !== undefined && untilMs !== undefined) return `arriving from ${instant(fromMs)} until ${instant(untilMs)}`;
      if (fromMs !== undefined) return `arriving from ${instant(fromMs)} on`;
      return `arriving before ${instant(untilMs ?? 0)}`;
    },
  };
}

export function streamMatcher(stream: boolean): Matcher {
  return {
    matches: (r) => r.stream === stream,
    describe: () => (stream ? 'streamed' : 'not streamed'),
  };
}

export function afterMatcher(after: After): Matcher {
  return {
    matches: (r) => r.answering === after,
    describe: () => (after === 'toolResult' ? "answering a tool's result" : "answering the caller"),
  };
}

/** The matchers a `when` asks for; the model matcher always comes first. */
export function matchersOf(when: When): Matcher[] {
  return [
    modelMatcher(when.model),
    ...(when.fromMs !== undefined || when.untilMs !== undefined ? [windowMatcher(when.fromMs, when.untilMs)] : []),
    ...(when.stream !== undefined ? [streamMatcher(when.stream)] : []),
    ...(when.after !== undefined ? [afterMatcher(when.after)] : []),
  ];
}
