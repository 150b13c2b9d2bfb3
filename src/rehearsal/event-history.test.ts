import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { EventHistory } from './event-history.js';

const turn = (n: number, text = `turn ${n}`): AgentEvent => ({ type: 'turn', turnId: `turn-${n}`, text, at: n, epochMs: n });
/** The ids and the non-event frames of a replay, in order. */
const shape = (text: string) => [...text.matchAll(/^(id: (\d+)|event: (\w+))$/gm)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[3]));

describe('the event history one replay draws on', () => {
  it('replays everything since the last reset to a new subscriber, each event with its id', () => {
    const history = new EventHistory();
    for (let n = 1; n <= 3; n++) history.push(turn(n));
    const replay = history.replay(0);
    expect(shape(replay.text)).toEqual([1, 2, 3]);
    expect(replay.remaining).toBe(0);
    expect(replay.text.split('\n\n')[0]).toBe(`id: 1\ndata: ${JSON.stringify(turn(1))}`);
  });

  it('resumes after the id a subscriber last saw; ids keep counting across a reset', () => {
    const history = new EventHistory();
    for (let n = 1; n <= 5; n++) history.push(turn(n));
    expect(shape(history.replay(3).text)).toEqual([4, 5]);
    expect(history.replay(5)).toEqual({ text: '', remaining: 0 });
    history.clear();
    history.push(turn(6));
    expect(shape(history.replay(0).text)).toEqual([6]);
    expect(shape(history.replay(5).text)).toEqual([6]);
  });

  it('one replay sends at most so many events, and says how many remain', () => {
    const history = new EventHistory({ history: 100, events: 4, bytes: 1e9 });
    for (let n = 1; n <= 10; n++) history.push(turn(n));
    expect(history.replay(0)).toMatchObject({ remaining: 6 });
    expect(shape(history.replay(0).text)).toEqual([1, 2, 3, 4]);
    expect(shape(history.replay(4).text)).toEqual([5, 6, 7, 8]);
    expect(history.replay(8)).toMatchObject({ remaining: 0 });
  });

  it('one replay sends at most so many bytes, but always at least one event', () => {
    const history = new EventHistory({ history: 100, events: 1000, bytes: 500 });
    for (let n = 1; n <= 10; n++) history.push(turn(n, 'x'.repeat(150)));
    const page = history.replay(0);
    expect(Buffer.byteLength(page.text)).toBeLessThanOrEqual(500);
    expect(shape(page.text)).toEqual([1, 2]);
    const huge = new EventHistory({ history: 100, events: 1000, bytes: 10 });
    huge.push(turn(1, 'y'.repeat(100)));
    expect(shape(huge.replay(0).text)).toEqual([1]);
  });

  it('keeps the newest events within its limit and tells a subscriber how many it can no longer replay', () => {
    const history = new EventHistory({ history: 3, events: 1000, bytes: 1e9 });
    for (let n = 1; n <= 10; n++) history.push(turn(n));
    expect(shape(history.replay(0).text)).toEqual(['dropped', 8, 9, 10]);
    expect(history.replay(0).text).toContain('event: dropped\ndata: {"dropped":7}\n\n');
    expect(shape(history.replay(8).text)).toEqual([9, 10]);
    // Forgotten by a reset on purpose: not dropped.
    history.clear();
    expect(history.replay(0).text).toBe('');
  });
});
