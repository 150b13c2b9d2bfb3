/**
 * Playing a caller's turns against a rehearsal agent and telling, per turn, what the caller heard. Works the
 * same for holdline and for a contender LLM (which emits no turn events): a turn is what happened between its
 * POST /turns and the agent listening again, read from the agent's `state` and `utterance` events only.
 */
import type { AgentEvent, UtteranceEvent } from '../../contract/events.js';
import { WaitTimeout, type EventFeed } from '../../contract/event-stream.js';
import { postJson } from './http.js';

export interface PlayedTurn {
  /** 0-based position in the conversation. */
  index: number;
  text: string;
  /** Scenario ms (agent clock) when the user's turn ended: the POST. */
  at: number;
  /** Wall ms from the POST until the turn ended (or was cut off). */
  wallMs: number;
  /**
   * listening: the agent went back to listening; cap: still busy after the cap (counted as silence);
   * closed: the session closed during the turn; rejected: the agent did not take the turn (session gone).
   */
  ended: 'listening' | 'cap' | 'closed' | 'rejected';
}

/**
 * Says `text` as the caller and waits until the agent is listening again, the session closes, or `capWallMs`
 * passes. The turn is over at the first `listening` that follows a `thinking` after the POST: the agent leaves
 * listening to reply, so a `listening` before that belongs to the interruption of the previous turn.
 */
export async function playTurn(opts: { agentUrl: string; events: EventFeed; index: number; text: string; capWallMs: number }): Promise<PlayedTurn> {
  const { events } = opts;
  const from = events.all.length;
  const started = Date.now();
  let at: number;
  try {
    at = (await postJson<{ at: number }>(`${opts.agentUrl}/turns`, { text: opts.text })).at;
  } catch {
    return { index: opts.index, text: opts.text, at: NaN, wallMs: Date.now() - started, ended: 'rejected' };
  }
  let replying = false;
  const isEnd = (event: AgentEvent) => {
    if (event.type === 'close') return true;
    if (event.type !== 'state') return false;
    if (event.to === 'thinking') replying = true;
    return replying && event.to === 'listening';
  };
  let ended: PlayedTurn['ended'];
  try {
    const index = await events.waitFor(isEnd, { from, timeoutMs: Math.max(0, opts.capWallMs - (Date.now() - started)) });
    ended = events.all[index]?.type === 'close' ? 'closed' : 'listening';
  } catch (error) {
    if (!(error instanceof WaitTimeout)) throw error;
    ended = 'cap';
  }
  return { index: opts.index, text: opts.text, at, wallMs: Date.now() - started, ended };
}

export interface HeardTurn extends PlayedTurn {
  /** Utterances that started during this turn (from its POST to the next one's). */
  spoken: UtteranceEvent[];
  /**
   * apology: the apology was said (after part of an answer, too); answered: something other than the hold was
   * said, and no apology; silence: neither an answer nor the apology.
   */
  outcome: 'answered' | 'apology' | 'silence';
  held: boolean;
  /** Scenario ms from the end of the user's turn to the first audio of any kind (the hold counts). */
  firstAudioMs?: number;
  /** Scenario ms from the end of the user's turn to the first audio of an answer. */
  answerMs?: number;
}

/** What the caller heard in each turn, from the whole event list (read after the last turn ended). */
export function hearTurns(turns: readonly PlayedTurn[], all: readonly AgentEvent[], said: { hold: string; apology: string }): HeardTurn[] {
  const utterances = all.filter((e): e is UtteranceEvent => e.type === 'utterance');
  return turns.map((turn, i) => {
    const next = turns.slice(i + 1).find((t) => Number.isFinite(t.at))?.at ?? Infinity;
    const spoken = Number.isFinite(turn.at) ? utterances.filter((u) => u.start >= turn.at && u.start < next && u.text !== '') : [];
    const isHold = (u: UtteranceEvent) => u.source === 'hold' || u.text === said.hold;
    const isApology = (u: UtteranceEvent) => u.source === 'apology' || u.text === said.apology;
    const answer = spoken.find((u) => !isHold(u) && !isApology(u));
    // The apology wins over a partial answer: part of an answer, then "Sorry...", is not an answer.
    const outcome = spoken.some(isApology) ? 'apology' : answer ? 'answered' : 'silence';
    const first = spoken[0];
    return {
      ...turn,
      spoken,
      outcome,
      held: spoken.some(isHold),
      ...(first && { firstAudioMs: first.start - turn.at }),
      ...(answer && { answerMs: answer.start - turn.at }),
    };
  });
}
