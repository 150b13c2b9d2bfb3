/**
 * OPENROUTER_SERVER_FALLBACK through the fake OpenRouter and the real attempt runner: what one `models[]` request
 * that OpenRouter served from a later model, or that failed on every model it carried, is booked to, and what the
 * next turn then sends (the journal is the fake's record of every request).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../../fakes/openrouter/index.js';
import { chainOnFake, LOCAL, turn } from '../testing/chain-on-fake.js';

const A = 'meta-llama/llama-3.3-70b-instruct:free';
const B = 'qwen/qwen-2.5-72b-instruct:free';

let fake: RunningFake | undefined;
afterEach(async () => fake?.close());

async function rig(rules: string[], models: readonly string[] = [A, B]) {
  const on = await chainOnFake(rules, models, { OPENROUTER_SERVER_FALLBACK: 'true' });
  fake = on.fake;
  return on;
}

describe('OPENROUTER_SERVER_FALLBACK through the fake', () => {
  it("an answer OpenRouter served from the request's later model is booked to it, and the next turn asks it directly", async () => {
    const { chain, seen, requests } = await rig([`{ when: { model: "${A}" }, then: { error: provider-down } }`]);
    const heard = await turn(chain, 'What is the capital of France?');
    expect(new Set(heard.map(([source]) => source))).toEqual(new Set([`openrouter:${B}`]));
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: A, outcome: 'unavailable' },
      { model: B, outcome: 'ok', status: 200 },
    ]);
    expect(seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'answered', source: `openrouter:${B}` });
    expect(chain.status().map((s) => [s.model, s.ok])).toEqual([
      [A, false],
      [B, true],
      [LOCAL, true],
    ]);
    await turn(chain, 'And how many people live there?');
    expect(requests()).toEqual([
      [A, B],
      [B, B],
    ]);
  });

  it('a request that failed on every model it carried cools them all: one dead request, then the local server', async () => {
    const { chain, seen, requests } = await rig([`{ when: { model: "*/*:free" }, then: { error: provider-down } }`]);
    const heard = await turn(chain, 'What is the capital of France?');
    expect(new Set(heard.map(([source]) => source))).toEqual(new Set(['local']));
    await turn(chain, 'And how many people live there?');
    // Both turns: one request carrying both models (failed), then none of them again while they cool.
    expect(requests()).toEqual([
      [A, B],
      [LOCAL, LOCAL],
      [LOCAL, LOCAL],
    ]);
    expect(seen.filter((e) => e.type === 'skip').map((e) => (e as { model: string }).model)).toEqual([A, B]);
  });

  it('a chain of four: each request carries at most three models (OpenRouter refuses more), the fourth is the chain\'s', async () => {
    const C = 'mistralai/mistral-7b-instruct:free';
    const D = 'google/gemma-2-9b-it:free';
    const { chain, seen, requests } = await rig([`{ when: { model: "*/*:free" }, then: { error: provider-down } }`], [A, B, C, D]);
    const heard = await turn(chain, 'What is the capital of France?');
    expect(new Set(heard.map(([source]) => source))).toEqual(new Set(['local']));
    // A's request carried A, B and C, the last OpenRouter tried (with D too, the whole request is a 400); D, not
    // carried, was asked on its own.
    expect(requests()).toEqual([
      [A, C],
      [D, D],
      [LOCAL, LOCAL],
    ]);
    expect(seen.filter((e) => e.type === 'attempt').map((e) => (e as { outcome: string }).outcome)).not.toContain('bad-request');
  });
});
