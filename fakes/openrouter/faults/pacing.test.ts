/**
 * streamTokens' writes: one per chunk when the process keeps up, and the chunks already due in one write when it
 * fell behind (the same bytes, fewer syscalls). A stand-in exchange whose clock the test moves.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../exchange.js';
import { streamTokens, type ReplyPlan } from './pacing.js';

function standIn(lateBy: (dueMs: number) => number) {
  let elapsed = 0;
  const writes: string[][] = [];
  const ex = {
    generation: { id: 'gen-1', created: 0, model: 'a/b', provider: 'P' },
    elapsed: () => elapsed,
    waitUntil: async (dueMs: number) => {
      elapsed = Math.max(elapsed, dueMs + lateBy(dueMs));
    },
    events: (data: readonly { choices: { delta: { content: string } }[] }[]) => writes.push(data.map((d) => d.choices[0]!.delta.content)),
  };
  return { ex: ex as unknown as Exchange, writes };
}

const plan = (words: string[]) => ({ pace: { ttftMs: 200, tokensPerSecond: 50 }, slots: words.map((text) => ({ kind: 'text', text })) }) as unknown as ReplyPlan;

describe('streamTokens', () => {
  it('on time: one write per chunk, in order', async () => {
    const { ex, writes } = standIn(() => 0);
    await streamTokens(ex, plan(['a', 'b', 'c', 'd']));
    expect(writes).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('woken 50 ms late at the second chunk: the chunks due by then go out in one write, the rest on time', async () => {
    // Chunks are due at 200, 220, 240, 260, 280 ms; waking at 270 instead of 220 finds b, c and d due.
    const { ex, writes } = standIn((due) => (due === 220 ? 50 : 0));
    await streamTokens(ex, plan(['a', 'b', 'c', 'd', 'e']));
    expect(writes).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
  });

  it('stops at count, even when later chunks are due', async () => {
    const { ex, writes } = standIn(() => 1_000);
    await streamTokens(ex, plan(['a', 'b', 'c', 'd']), 2);
    expect(writes).toEqual([['a', 'b']]);
  });
});
