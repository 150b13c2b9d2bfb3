import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { pending, type PlayedTurn } from './pending.js';

const base = { epochMs: 0 };
const turn = (at: number, turnId: string, text = 'Hi?'): AgentEvent => ({ ...base, type: 'turn', at, turnId, text });
const end = (at: number, turnId: string, outcome: 'answered' | 'cancelled' = 'answered'): AgentEvent => ({
  ...base,
  type: 'turn_end',
  at,
  turnId,
  outcome,
  source: outcome === 'answered' ? 'hold' : null,
});
const state = (at: number, from: string, to: string): AgentEvent => ({ ...base, type: 'state', at, from, to });
const played: PlayedTurn[] = [{ atMs: 0, say: 'Hi?', acceptedAt: 3 }];

describe('pending', () => {
  it('waits for turns not played yet', () => {
    expect(pending([], [], 1)).toBe('user turn 1 has not been played yet');
  });

  it('waits for the agent to take up the last turn, then for every turn to end', () => {
    expect(pending([], played, 1)).toMatch(/never took up the last turn/);
    expect(pending([turn(5, 'turn-1')], played, 1)).toBe('turn-1 ("Hi?") never ended');
  });

  it('waits for the speech to play out after the last turn ended', () => {
    const events = [state(4, 'listening', 'thinking'), turn(5, 'turn-1'), state(300, 'thinking', 'speaking'), end(310, 'turn-1')];
    expect(pending(events, played, 1)).toBe('the agent was still speaking after the last turn ended');
    expect(pending([...events, state(2000, 'speaking', 'listening')], played, 1)).toBeUndefined();
  });

  it('does not take a turn started before the last one was sent for the last one', () => {
    const two: PlayedTurn[] = [...played, { atMs: 5000, say: 'Again?', acceptedAt: 5001 }];
    const events = [turn(5, 'turn-1'), end(5001, 'turn-1', 'cancelled'), state(5002, 'thinking', 'listening')];
    expect(pending(events, two, 2)).toMatch(/never took up the last turn \("Again\?"\)/);
  });

  it('is over at once for a scenario without turns', () => {
    expect(pending([], [], 0)).toBeUndefined();
  });
});
