/**
 * The promises holdline makes to a caller, checked turn by turn (the fault matrix and the soak):
 * every turn ends in an answer or the apology; nothing spoken names a model or an error; the session stays
 * open; a turn after the faults cleared is answered; no unhandled rejection; the API key is in no output.
 * Each check returns plain-words problems (empty when all is well), so a failure says what broke.
 */
import type { AgentEvent } from '../../contract/events.js';
import type { HeardTurn } from './turns.js';

export interface SpeechRules {
  hold: string;
  apology: string;
  /** Complete answers the backends give; a prefix of one is a partial answer (spoken, then the apology). */
  answers: readonly string[];
  /** Strings that must never be spoken: model ids, provider names. */
  forbidden: readonly string[];
}

/** Words that would tell the caller about the machinery: error talk, status codes, limits. */
const INTERNALS = /error|\b[1-5]\d\d\b|rate.?limit|timed? ?out|credit|api.?key|unavailable|provider|overload|model/i;

/** What is wrong with one thing the caller heard, if anything. */
export function speechProblem(text: string, rules: SpeechRules): string | undefined {
  const named = rules.forbidden.find((f) => text.toLowerCase().includes(f.toLowerCase()));
  if (named) return `spoke ${JSON.stringify(text)}, which names ${JSON.stringify(named)}`;
  if (text === rules.hold || text === rules.apology) return undefined;
  if (INTERNALS.test(text)) return `spoke ${JSON.stringify(text)}, which talks about the machinery`;
  if (!rules.answers.some((answer) => answer.startsWith(text))) return `spoke ${JSON.stringify(text)}, which no backend said`;
  return undefined;
}

/** Problems with one turn: how it ended, what was heard, and (`mustAnswer`) whether it was answered. */
export function turnProblems(turn: HeardTurn, rules: SpeechRules, mustAnswer: boolean): string[] {
  const problems: string[] = [];
  if (turn.ended !== 'listening') problems.push(`the turn did not end normally (${turn.ended})`);
  if (turn.outcome === 'silence') problems.push('neither an answer nor the apology was spoken');
  if (mustAnswer && turn.outcome !== 'answered') problems.push(`faults had cleared but the turn ended in ${turn.outcome}`);
  if (turn.outcome === 'answered') {
    // Part of an answer and then nothing is silence with extra steps: the whole answer must have been heard.
    const heard = turn.spoken.filter((u) => u.text !== rules.hold).map((u) => u.text).join(' ').replace(/\s+/g, ' ').trim();
    if (!rules.answers.includes(heard)) problems.push(`only part of an answer was spoken (${JSON.stringify(heard)}), and no apology`);
  }
  for (const u of turn.spoken) {
    const problem = speechProblem(u.text, rules);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** The session must never close because of LLM trouble. */
export function closeProblems(events: readonly AgentEvent[]): string[] {
  return events.filter((e) => e.type === 'close').map((e) => `the session closed (${e.type === 'close' ? e.reason : ''})`);
}

/** The key must appear in no log line and no event. */
export function secretProblems(key: string, outputs: Record<string, string>): string[] {
  return Object.entries(outputs)
    .filter(([, text]) => text.includes(key))
    .map(([where]) => `the API key appears in ${where}`);
}

/**
 * Records every unhandled promise rejection until `stop()`, for the caller to fail on. It never handles one:
 * under vitest its own listener still reports each; in the soak CLI the run exits 1 listing them.
 */
export function watchUnhandledRejections(): { readonly seen: readonly string[]; stop(): void } {
  const seen: string[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
  };
  process.on('unhandledRejection', listener);
  return { seen, stop: () => process.off('unhandledRejection', listener) };
}
