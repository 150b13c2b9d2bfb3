import type { llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import type { Backend } from './backends.js';
import { race } from './race.js';

const backend = (model: string): Backend => ({ id: `openrouter:${model}`, kind: 'openrouter', model }) as Backend;
type Run = Parameters<typeof race>[0]['run'];
type RunResult = Awaited<ReturnType<Run>>;

/** A request that speaks its first token `ms` after it starts, then ends whole (each backend asked goes in `asked`). */
const answersAfter =
  (clock: VirtualClock, ms: number, asked: string[] = []): Run =>
  async (b, _signal, onChunk) => {
    asked.push(b.id);
    await clock.sleep(ms);
    onChunk({ id: 'c', delta: { role: 'assistant', content: 'Paris.' } } as llm.ChatChunk);
    return { cancelled: false, textSent: true } as RunResult;
  };

describe('race: a hedge picked over the network', () => {
  it('comes too late when the first request already answered: never sent, never announced, and what it took is given back', async () => {
    const clock = new VirtualClock();
    const [first, second] = [backend('a/one'), backend('b/two')];
    let answerPick: (b: Backend) => void = () => {};
    const hedged: string[] = [];
    const dropped: string[] = [];
    const asked: string[] = [];
    const lanes = race({
      first,
      clock,
      signal: new AbortController().signal,
      hedgeAfterMs: 100,
      // A fleet's budget and lease, asked in Redis: the answer comes after the first request answered.
      pickHedge: () => new Promise<Backend>((resolve) => (answerPick = resolve)),
      onHedge: (b) => hedged.push(b.id),
      onHedgeDropped: (b) => dropped.push(b.id),
      run: answersAfter(clock, 200, asked),
      forward: () => {},
    });
    await clock.advance(100); // the hedge delay: the pick goes out
    await clock.advance(100); // the first request answers and settles
    answerPick(second);
    const settled = await lanes;
    expect(settled.map((l) => l.backend.id)).toEqual([first.id]);
    expect(asked).toEqual([first.id]);
    expect(hedged).toEqual([]);
    expect(dropped).toEqual([second.id]);
  });

  it('a turn already over when the race starts: its request starts aborted, and does not run as if the turn were on', async () => {
    const clock = new VirtualClock();
    const turn = new AbortController();
    turn.abort(); // the caller moved on while the decision waited on Redis
    let startedAborted: boolean | undefined;
    const settled = await race({
      first: backend('a/one'),
      clock,
      signal: turn.signal,
      hedgeAfterMs: undefined,
      pickHedge: () => undefined,
      run: async (_b, signal) => {
        startedAborted = signal.aborted;
        return { cancelled: signal.aborted, textSent: false } as RunResult;
      },
      forward: () => {},
    });
    expect(startedAborted).toBe(true);
    expect(settled.map((l) => l.result.cancelled)).toEqual([true]);
  });

  it('a pick that fails after the first request answered is no failure of the turn (no apology after an answer)', async () => {
    const clock = new VirtualClock();
    let failPick: (error: Error) => void = () => {};
    const lanes = race({
      first: backend('a/one'),
      clock,
      signal: new AbortController().signal,
      hedgeAfterMs: 100,
      pickHedge: () => new Promise<Backend>((_resolve, reject) => (failPick = reject)),
      run: answersAfter(clock, 200),
      forward: () => {},
    });
    await clock.advance(100); // the hedge delay: the pick goes out
    await clock.advance(100); // the first request answers and settles
    failPick(new Error('a bug in the pick'));
    const settled = await lanes;
    expect(settled.map((l) => l.won)).toEqual([true]);
  });
});
